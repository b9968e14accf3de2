import { afterEach, describe, expect, inject, it } from "vitest";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders, post } from "../support/emit.js";
import { failFirst, startSink, type Sink, sinkPool } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const V1 = "eventing.knative.dev/v1";
const sink = sinkPool(afterEach);

async function brokerUrl(ns: string, name = "default", spec: Record<string, unknown> = {}): Promise<string> {
  return (await api.apply(broker(ns, name, spec))).status.address.url;
}
async function ready(ns: string, ...names: string[]) {
  for (const n of names) await api.waitReady(V1, "Trigger", ns, n);
}
const ev = (id: string, type = "com.example.FullEvent", extra: Record<string, string> = {}) =>
  binaryHeaders({ specversion: "1.0", id, source: "/delivery", type, ...extra });
async function stats(ns: string, name = "default") {
  return (await api.call("GET", `/apis/${V1}/namespaces/${ns}/brokers/${name}/stats`)).body;
}
const b64 = (s: string) => Buffer.from(s, "base64").toString();

describe("routing", () => {
  it("delivers to every matching Trigger its own copy, with Prefer: reply and Kn-Namespace", async () => {
    const ns = uniqueNs("route");
    const url = await brokerUrl(ns);
    const [a, b, none] = [await sink(), await sink(), await sink()];
    await api.apply(trigger(ns, "a", "default", a.url, { filter: { attributes: { type: "com.example.FullEvent" } } }));
    await api.apply(trigger(ns, "b", "default", b.url, { filter: { attributes: { type: "com.example.FullEvent" } } }));
    await api.apply(trigger(ns, "none", "default", none.url, { filter: { attributes: { type: "mytype" } } }));
    await ready(ns, "a", "b", "none");
    expect((await post(url, ev("r1"), '{"k":"v"}')).status).toBe(202);
    const [got] = await a.waitFor(1);
    await b.waitFor(1);
    expect(got!.headers).toMatchObject({ prefer: "reply", "kn-namespace": ns, "ce-id": "r1", "ce-type": "com.example.FullEvent" });
    expect(got!.body.toString()).toBe('{"k":"v"}');
    expect((await none.settle(500)).length).toBe(0);
  });

  it("matches legacy attribute filters exactly, with \"\" meaning present and non-empty", async () => {
    const ns = uniqueNs("attr");
    const url = await brokerUrl(ns);
    const cases: [string, Record<string, string>][] = [
      ["any", { type: "", source: "" }], ["t1", { type: "t1" }], ["s1", { source: "s1" }], ["t1s1", { type: "t1", source: "s1" }],
      ["ext", { extname1: "extval1" }], ["exists", { extname1: "" }], ["both", { extname1: "extval1", extname2: "extval2" }],
    ];
    const s: Record<string, Sink> = {};
    for (const [name, attributes] of cases) {
      s[name] = await sink();
      await api.apply(trigger(ns, name, "default", s[name]!.url, { filter: { attributes } }));
    }
    await ready(ns, ...cases.map((c) => c[0]));
    const send = (id: string, type: string, source: string, ext: Record<string, string> = {}) =>
      post(url, binaryHeaders({ specversion: "1.0", id, type, source, ...ext }), "{}");
    await send("e1", "t1", "s1");
    await send("e2", "t1", "s2");
    await send("e3", "t2", "s1");
    await send("e4", "t2", "s2", { extname1: "extval1" });
    await send("e5", "t2", "s2", { extname1: "extval1", extname2: "extval2" });
    await send("e6", "t2", "s2", { extname1: "other" });
    const expected: Record<string, string[]> = {
      any: ["e1", "e2", "e3", "e4", "e5", "e6"], t1: ["e1", "e2"], s1: ["e1", "e3"], t1s1: ["e1"],
      ext: ["e4", "e5"], exists: ["e4", "e5", "e6"], both: ["e5"],
    };
    for (const [name, ids] of Object.entries(expected)) await s[name]!.waitFor(ids.length);
    for (const [name, ids] of Object.entries(expected)) {
      const got = (await s[name]!.settle(300)).map((r) => r.headers["ce-id"]).sort();
      expect(got, name).toEqual(ids);
    }
  });
});

describe("retries and dead letters (Knative's broker delivery conformance)", () => {
  it("Broker {retry:3, DLS}: 3 failures then success; 4 failures go to the Broker's DLS after 4 attempts", async () => {
    const ns = uniqueNs("dls");
    const dls = await sink();
    const url = await brokerUrl(ns, "default", { delivery: { retry: 3, deadLetterSink: { uri: dls.url } } });
    const t1 = await sink(failFirst(3));
    const t2 = await sink(failFirst(4));
    await api.apply(trigger(ns, "t1", "default", t1.url));
    await api.apply(trigger(ns, "t2", "default", t2.url));
    await ready(ns, "t1", "t2");
    await post(url, ev("c28"), "{}");
    await t1.waitFor(4);
    const [dead] = await dls.waitFor(1);
    expect((await t2.settle(500)).length).toBe(4);
    expect((await t1.settle(300)).length).toBe(4);
    expect(dead!.headers).toMatchObject({ "ce-id": "c28", "ce-knativeerrordest": t2.url, "ce-knativeerrorcode": "409", "kn-namespace": ns });
    expect((await dls.settle(300)).length).toBe(1);
  });

  it("a Trigger's delivery replaces the Broker's: {retry:1} without a DLS drops after 2 attempts and counts it", async () => {
    const ns = uniqueNs("drop");
    const dls = await sink();
    const url = await brokerUrl(ns, "default", { delivery: { retry: 0, deadLetterSink: { uri: dls.url } } });
    const t1 = await sink(failFirst(3));
    const tdls = await sink();
    const t2 = await sink(failFirst(2));
    await api.apply(trigger(ns, "t1", "default", t1.url, { delivery: { retry: 3, deadLetterSink: { uri: tdls.url } } }));
    await api.apply(trigger(ns, "t2", "default", t2.url, { delivery: { retry: 1 } }));
    await ready(ns, "t1", "t2");
    await post(url, ev("c29"), "{}");
    await t1.waitFor(4);
    await t2.waitFor(2);
    expect((await t2.settle(500)).length).toBe(2);
    expect((await tdls.settle(300)).length).toBe(0);
    expect((await dls.settle(300)).length).toBe(0);
    // Nothing dead-lettered it, so Eddy keeps it (Knative would lose it) and lists it.
    await expect.poll(async () => (await stats(ns)).counters["kept.retries-exhausted"]).toBe(1);
    const kept = (await api.call("GET", `/apis/${V1}/namespaces/${ns}/brokers/default/deadletters`)).body.items;
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ eventId: "c29", reason: "retries-exhausted", trigger: "t2", attempts: 2 });
  });

  it("does not retry a 422; the DLS gets knativeerrorcode and the base64 response body", async () => {
    const ns = uniqueNs("422");
    const url = await brokerUrl(ns);
    const dls = await sink();
    const sub = await sink(() => ({ status: 422, body: '{ "message": "catastrophic failure" }' }));
    await api.apply(trigger(ns, "t", "default", sub.url, { delivery: { retry: 5, deadLetterSink: { uri: dls.url } } }));
    await ready(ns, "t");
    await post(url, ev("c35"), "{}");
    const [dead] = await dls.waitFor(1);
    expect((await sub.settle(300)).length).toBe(1);
    expect(dead!.headers["ce-knativeerrorcode"]).toBe("422");
    expect(dead!.headers["ce-knativeerrordest"]).toBe(sub.url);
    expect(b64(dead!.headers["ce-knativeerrordata"]!)).toBe('{ "message": "catastrophic failure" }');
  });

  it("an unreachable subscriber is retried, then dead-lettered with knativeerrordest", async () => {
    const ns = uniqueNs("unreach");
    const url = await brokerUrl(ns);
    const dls = await sink();
    const gone = await sink();
    const deadUrl = gone.url;
    await gone.close();
    await api.apply(trigger(ns, "t", "default", deadUrl, { delivery: { retry: 1, deadLetterSink: { uri: dls.url } } }));
    await ready(ns, "t");
    await post(url, ev("c33"), "{}");
    const [dead] = await dls.waitFor(1);
    expect(dead!.headers).toMatchObject({ "ce-knativeerrordest": deadUrl, "ce-knativeerrorcode": "500", "kn-namespace": ns });
    expect(b64(dead!.headers["ce-knativeerrordata"]!)).toMatch(/^dispatch error/);
  });

  it("retries an attempt that times out", async () => {
    const ns = uniqueNs("timeout");
    const url = await brokerUrl(ns);
    const sub = await sink((_r, n) => (n === 1 ? { status: 202, delayMs: 3000 } : { status: 202 }));
    await api.apply(trigger(ns, "t", "default", sub.url, { delivery: { retry: 2, timeout: "PT1S" } }));
    await ready(ns, "t");
    await post(url, ev("to1"), "{}");
    await sub.waitFor(2);
    await expect.poll(async () => (await stats(ns)).counters.delivered).toBe(1);
    expect((await stats(ns)).counters.retried).toBeGreaterThanOrEqual(1);
  });

  it("honours Retry-After on 429 when retryAfterMax is set", async () => {
    const ns = uniqueNs("ra");
    const url = await brokerUrl(ns);
    const sub = await sink((_r, n) => (n === 1 ? { status: 429, headers: { "Retry-After": "1" } } : { status: 202 }));
    await api.apply(trigger(ns, "t", "default", sub.url, { delivery: { retry: 1, retryAfterMax: "PT5S" } }));
    await ready(ns, "t");
    await post(url, ev("ra1"), "{}");
    const got = await sub.waitFor(2);
    expect(got.map((r) => r.headers["ce-id"])).toEqual(["ra1", "ra1"]);
  });
});

describe("replies", () => {
  it("a reply re-enters the Broker and reaches every matching Trigger, the originator's filter included", async () => {
    const ns = uniqueNs("reply");
    const url = await brokerUrl(ns);
    const replyBody = "r".repeat(36_000);
    const t1 = await sink(() => ({
      status: 200,
      headers: { "ce-specversion": "1.0", "ce-id": "reply-1", "ce-source": "/replier", "ce-type": "com.example.ReplyEvent", "Content-Type": "text/plain" },
      body: replyBody,
    }));
    const t2 = await sink();
    await api.apply(trigger(ns, "t1", "default", t1.url, { filter: { attributes: { type: "com.example.FullEvent" } } }));
    await api.apply(trigger(ns, "t2", "default", t2.url, { filter: { attributes: { type: "com.example.ReplyEvent" } } }));
    await ready(ns, "t1", "t2");
    await post(url, ev("orig-1"), "{}");
    const [got] = await t2.waitFor(1);
    expect(got!.headers).toMatchObject({ "ce-id": "reply-1", "ce-type": "com.example.ReplyEvent", "ce-source": "/replier" });
    expect(got!.body.toString()).toBe(replyBody);
    expect((await t1.settle(300)).length).toBe(1);
    expect((await t2.settle(300)).length).toBe(1);
  });

  it("a 202 carries no reply even with a CloudEvent body", async () => {
    const ns = uniqueNs("r202");
    const url = await brokerUrl(ns);
    const t1 = await sink(() => ({ status: 202, headers: { "ce-specversion": "1.0", "ce-id": "x", "ce-source": "/s", "ce-type": "com.example.ReplyEvent" }, body: "{}" }));
    const t2 = await sink();
    await api.apply(trigger(ns, "t1", "default", t1.url, { filter: { attributes: { type: "com.example.FullEvent" } } }));
    await api.apply(trigger(ns, "t2", "default", t2.url, { filter: { attributes: { type: "com.example.ReplyEvent" } } }));
    await ready(ns, "t1", "t2");
    await post(url, ev("o202"), "{}");
    await t1.waitFor(1);
    await expect.poll(async () => (await stats(ns)).counters.delivered).toBe(1);
    expect((await t2.settle(500)).length).toBe(0);
  });

  it("a 200 with a body that is not a CloudEvent fails, is retried, and is dead-lettered saying why", async () => {
    const ns = uniqueNs("nonce");
    const url = await brokerUrl(ns);
    const dls = await sink();
    const sub = await sink(() => ({ status: 200, headers: { "Content-Type": "text/plain" }, body: "OK" }));
    await api.apply(trigger(ns, "t", "default", sub.url, { delivery: { retry: 1, deadLetterSink: { uri: dls.url } } }));
    await ready(ns, "t");
    await post(url, ev("nce"), "{}");
    const [dead] = await dls.waitFor(1);
    expect((await sub.settle(300)).length).toBe(2);
    expect(dead!.headers["ce-knativeerrorcode"]).toBe("502");
    expect(b64(dead!.headers["ce-knativeerrordata"]!)).toMatch(/not a CloudEvent/);
  });

  it("stops a reply loop when knativebrokerttl runs out, and counts the drop", async () => {
    const ns = uniqueNs("loop");
    const url = await brokerUrl(ns);
    let n = 0;
    const echo = await sink(() => ({
      status: 200,
      headers: { "ce-specversion": "1.0", "ce-id": `loop-${++n}`, "ce-source": "/loop", "ce-type": "com.example.FullEvent" },
      body: "",
    }));
    await api.apply(trigger(ns, "echo", "default", echo.url));
    await ready(ns, "echo");
    await post(url, ev("loop-0", "com.example.FullEvent", { knativebrokerttl: "3" }), "{}");
    await echo.waitFor(3);
    await expect.poll(async () => (await stats(ns)).counters["dropped.ttl-exhausted"]).toBe(1);
    expect((await echo.settle(500)).length).toBe(3);
  });
});

describe("delivery format", () => {
  it("format: json delivers structured mode; binary is the default", async () => {
    const ns = uniqueNs("fmt");
    const url = await brokerUrl(ns);
    const js = await sink();
    const bin = await sink();
    await api.apply(trigger(ns, "js", "default", js.url, { delivery: { format: "json" } }));
    await api.apply(trigger(ns, "bin", "default", bin.url, { delivery: { format: "binary" } }));
    await ready(ns, "js", "bin");
    await post(url, ev("f1", "com.example.FullEvent", { myint: "5" }), '{"a":1}');
    const [s] = await js.waitFor(1);
    const [b] = await bin.waitFor(1);
    expect(s!.headers["content-type"]).toMatch(/^application\/cloudevents\+json/);
    expect(JSON.parse(s!.body.toString())).toMatchObject({ specversion: "1.0", id: "f1", myint: "5", data: { a: 1 } });
    expect(b!.headers["ce-id"]).toBe("f1");
    expect(b!.body.toString()).toBe('{"a":1}');
  });
});
