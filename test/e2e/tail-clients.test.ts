// The live tail with a third-party WebSocket client (`ws`), as a monitoring script would use it:
// the admin token in the Authorization header, with and without Eddy's subprotocol. RFC 6455 has a
// client that asked for no subprotocol fail a connection whose answer names one, and `ws` does.
import { afterEach, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders, post } from "../support/emit.js";
import { sinkPool } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const V1 = "eventing.knative.dev/v1";
const sink = sinkPool(afterEach);
const opened: WebSocket[] = [];
afterEach(() => {
  for (const ws of opened.splice(0)) ws.terminate();
});

/** Opens the tail of `path` with `ws`; resolves once open, with the messages as they come. */
async function tail(path: string, protocols: string[] | undefined): Promise<{ ws: WebSocket; messages: any[] }> {
  const url = `${p.url.replace(/^http/, "ws")}${path}`;
  const ws = protocols ? new WebSocket(url, protocols, { headers: { Authorization: `Bearer ${p.token}` } }) : new WebSocket(url, { headers: { Authorization: `Bearer ${p.token}` } });
  opened.push(ws);
  const messages: any[] = [];
  ws.on("message", (d) => messages.push(JSON.parse(String(d))));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return { ws, messages };
}

async function brokerWithTrigger(annotations?: Record<string, string>): Promise<{ ns: string; url: string }> {
  const ns = uniqueNs("wstail");
  const url = (await api.apply(broker(ns, "default", {}, annotations))).status.address.url as string;
  const s = await sink();
  await api.apply(trigger(ns, "t", "default", s.url));
  await api.waitReady(V1, "Trigger", ns, "t");
  return { ns, url };
}

const send = (url: string, id: string) =>
  post(url, { ...binaryHeaders({ specversion: "1.0", id, source: "/ws", type: "com.example.ws" }), Authorization: `Bearer ${p.token}` }, "{}");

describe("the live tail with the ws client", () => {
  it("tails a Broker for a client that asks for no subprotocol", async () => {
    const { ns, url } = await brokerWithTrigger();
    const { ws, messages } = await tail(`/apis/${V1}/namespaces/${ns}/brokers/default/tail`, undefined);
    expect(ws.protocol).toBe("");
    expect((await send(url, "ws-1")).status).toBe(202);
    await expect.poll(() => messages.map((m) => m.kind)).toEqual(["event", "delivery"]);
    expect(messages[1]).toMatchObject({ outcome: "delivered", route: "t", eventId: "ws-1" });
  });

  it("answers eddy.tail.v1 when the client asks for it, and only that", async () => {
    const { ns, url } = await brokerWithTrigger();
    const { ws, messages } = await tail(`/apis/${V1}/namespaces/${ns}/triggers/t/tail`, ["eddy.tail.v1"]);
    expect(ws.protocol).toBe("eddy.tail.v1");
    expect((await send(url, "ws-2")).status).toBe(202);
    await expect.poll(() => messages.map((m) => m.kind)).toEqual(["delivery"]);
  });

  it("tails a partitioned Broker (one socket fed by every partition) without a subprotocol", async () => {
    const { ns, url } = await brokerWithTrigger({ "eddy.dev/partitions": "3" });
    const { ws, messages } = await tail(`/apis/${V1}/namespaces/${ns}/brokers/default/tail`, undefined);
    expect(ws.protocol).toBe("");
    for (const id of ["p-1", "p-2", "p-3"]) expect((await send(url, id)).status).toBe(202);
    await expect.poll(() => messages.filter((m) => m.kind === "delivery").map((m) => m.eventId).sort()).toEqual(["p-1", "p-2", "p-3"]);
  });
});
