// Every request vector of the CloudEvents conformance tool, POSTed to a Broker's ingress: each is
// accepted, and reaches a Trigger's subscriber with the same attributes and the same data bytes.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { startSink, type Sink } from "../support/sink.js";
import { loadVectors } from "../support/vectors.js";
import { senderAuth } from "../support/emit.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const ns = uniqueNs("vec");
let sink: Sink;
let url: string;

beforeAll(async () => {
  sink = await startSink();
  url = (await api.apply(broker(ns, "default"))).status.address.url;
  await api.apply(trigger(ns, "all", "default", sink.url));
  await api.waitReady("eventing.knative.dev/v1", "Trigger", ns, "all");
});
afterAll(() => sink.close());

const vectors = loadVectors();

describe("CloudEvents HTTP conformance vectors through a Broker", () => {
  it("covers all 15 vectors", () => {
    expect(vectors).toHaveLength(15);
  });

  it.each(vectors.map((v) => [`${v.file}#${v.index} (${v.mode}, ${v.attrs.specversion})`, v] as const))("%s", async (_name, v) => {
    // Vectors reuse ids; a per-vector source keeps deliveries apart.
    const source = `${v.attrs.source}?vector=${v.file}-${v.index}`;
    const headers = { ...v.headers, ...senderAuth() };
    let body = v.body;
    if (v.mode === "binary") headers["ce-source"] = source;
    else body = JSON.stringify({ ...JSON.parse(v.body), source });
    const r = await fetch(url, { method: "POST", headers, body });
    expect(r.status, await r.text()).toBe(202);
    await expect.poll(() => sink.received.some((x) => x.headers["ce-source"] === encodeURI(source) || decodeURIComponent(x.headers["ce-source"] ?? "") === source)).toBe(true);
    const got = sink.received.find((x) => decodeURIComponent(x.headers["ce-source"] ?? "") === source)!;
    for (const [k, want] of Object.entries({ ...v.attrs, ...v.extensions })) {
      if (k === "source") continue;
      if (k === "datacontenttype") expect(got.headers["content-type"]).toBe(want);
      else expect(decodeURIComponent(got.headers[`ce-${k}`] ?? ""), k).toBe(want);
    }
    expect(got.body.toString("utf8")).toBe(v.expectedData);
  });
});
