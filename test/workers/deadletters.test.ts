// Dead letters kept instead of dropped (R2 behind an index in the object), listed, shown,
// redriven and purged; and the live tail over a hibernatable WebSocket.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { apply, brokerObj, ORIGIN, send, SINK, sinkLog, stats, triggerObj, uid, waitLog } from "./helpers.js";

const AUTH = { Authorization: "Bearer test-token" };
const base = (ns: string) => `${ORIGIN}/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers/default`;

async function call(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await SELF.fetch(url, { method, headers: { ...AUTH, "Content-Type": "application/json" }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: r.status, body: await r.json() };
}

describe("kept dead letters", () => {
  it("are listed, shown with their event, redriven to the Trigger as it is now, and purged", async () => {
    const ns = uid("ns");
    await apply(brokerObj(ns, "default"), "brokers");
    const bad = uid();
    await apply(triggerObj(ns, "orders", "default", `${SINK}/status/503/${bad}`, { delivery: { retry: 0 } }), "triggers");
    for (const id of ["d1", "d2", "d3"]) await send(ns, "default", { specversion: "1.0", id, source: "/s", type: "t" }, `{"n":"${id}"}`);
    await waitLog(bad, 3);
    await expect.poll(async () => (await call("GET", `${base(ns)}/deadletters`)).body.items?.length).toBe(3);
    const list = (await call("GET", `${base(ns)}/deadletters`)).body.items as any[];
    expect(list.map((e) => e.eventId).sort()).toEqual(["d1", "d2", "d3"]);
    expect(list[0]).toMatchObject({ type: "t", source: "/s", trigger: "orders", status: 503, reason: "retries-exhausted", attempts: 1 });
    expect(list[0]).not.toHaveProperty("route");

    const one = await call("GET", `${base(ns)}/deadletters/${list.find((e) => e.eventId === "d1").id}`);
    expect(one.status).toBe(200);
    // The event as a dead-letter sink would have received it, in structured JSON.
    expect(one.body.event).toMatchObject({ id: "d1", knativeerrorcode: 503, knativeerrordest: `${SINK}/status/503/${bad}`, data: { n: "d1" } });

    // Fix the subscriber, then redrive two by id: they arrive, and their entries go.
    const good = uid();
    await apply(triggerObj(ns, "orders", "default", `${SINK}/ok/${good}`, { delivery: { retry: 0 } }), "triggers");
    const ids = list.filter((e) => e.eventId !== "d3").map((e) => e.id);
    expect((await call("POST", `${base(ns)}/deadletters/redrive`, { ids })).body).toEqual({ redriven: 2, skipped: [] });
    const got = await waitLog(good, 2);
    expect(got.map((r) => r.headers["ce-id"]).sort()).toEqual(["d1", "d2"]);
    // As first sent: the error extensions of the last failure stay with the kept entry.
    for (const r of got) expect(Object.keys(r.headers).filter((h) => h.startsWith("ce-knativeerror"))).toEqual([]);
    await expect.poll(async () => (await call("GET", `${base(ns)}/deadletters`)).body.items.map((e: any) => e.eventId)).toEqual(["d3"]);

    const last = (await call("GET", `${base(ns)}/deadletters`)).body.items[0].id;
    expect((await call("DELETE", `${base(ns)}/deadletters/${last}`)).status).toBe(200);
    expect((await call("GET", `${base(ns)}/deadletters/${last}`)).status).toBe(404);
    expect((await call("GET", `${base(ns)}/deadletters`)).body.items).toEqual([]);
    expect((await sinkLog(good)).length).toBe(2);
  });

  it("redrives everything of one Trigger, and refuses a redrive that names nothing", async () => {
    const ns = uid("ns");
    await apply(brokerObj(ns, "default"), "brokers");
    const k = uid();
    await apply(triggerObj(ns, "t", "default", `${SINK}/fail/2/500/${k}`, { delivery: { retry: 0 } }), "triggers");
    await send(ns, "default", { specversion: "1.0", id: "a", source: "/s", type: "t" });
    await send(ns, "default", { specversion: "1.0", id: "b", source: "/s", type: "t" });
    await expect.poll(async () => (await call("GET", `${base(ns)}/deadletters`)).body.items?.length).toBe(2);
    const bad = await call("POST", `${base(ns)}/deadletters/redrive`, { nothing: true });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('{"all": true}');
    expect((await call("POST", `${base(ns)}/deadletters/redrive`, { trigger: "t" })).body.redriven).toBe(2);
    await waitLog(k, 4); // two failures, then the two redriven deliveries succeed
    await expect.poll(async () => (await call("GET", `${base(ns)}/deadletters`)).body.items.length).toBe(0);
    expect((await stats(ns, "default")).counters).toMatchObject({ "kept.retries-exhausted": 2, delivered: 2 });
  });
});

describe("dead-letter retention", () => {
  it("forgets kept dead letters, index and R2 body, once eddy.dev/deadletter-retention has passed", async () => {
    const ns = uid("ns");
    await apply({ ...brokerObj(ns, "default"), metadata: { name: "default", namespace: ns, annotations: { "eddy.dev/deadletter-retention": "PT2S" } } }, "brokers");
    const bad = uid();
    await apply(triggerObj(ns, "t", "default", `${SINK}/status/500/${bad}`, { delivery: { retry: 0 } }), "triggers");
    await send(ns, "default", { specversion: "1.0", id: "old-1", source: "/s", type: "t" });
    await expect.poll(async () => (await call("GET", `${base(ns)}/deadletters`)).body.items?.length).toBe(1);
    const bucket = (env as unknown as { ARCHIVE: R2Bucket }).ARCHIVE;
    await expect.poll(async () => (await bucket.list({ prefix: `deadletters/${ns}/default/` })).objects.length, { timeout: 10_000 }).toBe(1);
    await expect.poll(async () => (await call("GET", `${base(ns)}/deadletters`)).body.items?.length, { timeout: 15_000, interval: 500 }).toBe(0);
    await expect.poll(async () => (await bucket.list({ prefix: `deadletters/${ns}/default/` })).objects.length, { timeout: 10_000 }).toBe(0);
  });
});

describe("live tail", () => {
  it("streams accepted events and delivery outcomes over a WebSocket", async () => {
    const ns = uid("ns");
    await apply(brokerObj(ns, "default"), "brokers");
    const k = uid();
    await apply(triggerObj(ns, "t", "default", `${SINK}/ok/${k}`), "triggers");
    const res = await SELF.fetch(`${base(ns)}/tail`, { headers: { ...AUTH, Upgrade: "websocket" } });
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    const got: any[] = [];
    ws.addEventListener("message", (e) => got.push(JSON.parse(e.data as string)));
    ws.accept();
    await send(ns, "default", { specversion: "1.0", id: "tail-1", source: "/s", type: "t", subject: "hello" }, '{"x":1}');
    await expect.poll(() => got.length).toBeGreaterThanOrEqual(2);
    expect(got[0]).toMatchObject({ kind: "event", attrs: { id: "tail-1", subject: "hello" }, size: 7, dataPreview: '{"x":1}' });
    expect(got[1]).toMatchObject({ kind: "delivery", eventId: "tail-1", route: "t", hop: "subscriber", outcome: "delivered", attempt: 1 });
    ws.close();
  });

  it("refuses a tail without the admin token, and a plain GET", async () => {
    const ns = uid("ns");
    await apply(brokerObj(ns, "default"), "brokers");
    expect((await SELF.fetch(`${base(ns)}/tail`, { headers: { Upgrade: "websocket" } })).status).toBe(401);
    const plain = await SELF.fetch(`${base(ns)}/tail`, { headers: AUTH });
    expect(plain.status).toBe(400);
  });
});
