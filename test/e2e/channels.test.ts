// Channels and Subscriptions: Knative's channel conformance cases, end to end with real subscribers.
import { afterEach, describe, expect, inject, it } from "vitest";
import { Api, channel, imc, subscription, uniqueNs } from "../support/api.js";
import { binaryHeaders, post } from "../support/emit.js";
import { appendReply, failFirst, startSink, type Responder, type Sink, sinkPool } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const M = "messaging.knative.dev/v1";
const sink = sinkPool(afterEach);
const ev = (id: string, extra: Record<string, string> = {}, contentType = "application/json") =>
  binaryHeaders({ specversion: "1.0", id, source: "/channels", type: "com.example.ch", ...extra }, contentType);
async function send(url: string, headers: Record<string, string>, body: string) {
  const r = await post(url, headers, body);
  expect(r.status, await r.text()).toBe(202);
}
const b64 = (s: string) => Buffer.from(s, "base64").toString();
async function ready(ns: string, ...subs: string[]) {
  for (const s of subs) await api.waitReady(M, "Subscription", ns, s);
}

describe("channel ingress", () => {
  it("accepts 1.0 and 0.3, binary and structured, and delivers without changing attributes", async () => {
    const ns = uniqueNs("chi");
    const url = (await api.apply(imc(ns, "c"))).status.address.url;
    expect(url).toBe(`${p.url}/inmemorychannels/${ns}/c`);
    const s = await sink();
    await api.apply(subscription(ns, "s", "c", { subscriber: { uri: s.url } }));
    await ready(ns, "s");
    for (const [i, type] of ["application/vnd.apache.thrift.binary", "application/xml", "application/json"].entries()) {
      expect((await post(url, { ...ev(`b${i}`), "Content-Type": type }, type === "application/json" ? "{}" : "<x/>")).status, type).toBe(202);
    }
    expect((await post(url, { "Content-Type": "application/cloudevents+json" }, JSON.stringify({ specversion: "1.0", id: "s1", source: "/c", type: "t", data: { a: 1 } }))).status).toBe(202);
    expect((await post(url, binaryHeaders({ specversion: "0.3", id: "old", source: "/c", type: "t", schemaurl: "http://s/" }), "{}")).status).toBe(202);
    const got = await s.waitFor(5);
    const old = got.find((r) => r.headers["ce-id"] === "old")!;
    expect(old.headers["ce-specversion"]).toBe("0.3");
    expect(old.headers["ce-schemaurl"]).toBe("http://s/");
    expect(old.headers["ce-knativearrivaltime"]).toBeUndefined();
    expect(got[0]!.headers).toMatchObject({ prefer: "reply", "kn-namespace": ns });
  });

  it.each(["specversion", "id", "source", "type"])("400 without ce-%s", async (attr) => {
    const ns = uniqueNs("chm");
    const url = (await api.apply(imc(ns, "c"))).status.address.url;
    const h = ev("m");
    delete h[`ce-${attr}`];
    const r = await post(url, h, "{}");
    expect(r.status).toBe(400);
    expect(await r.text()).toContain(attr);
  });

  it("404 for an unknown channel, 405 for GET, 413 above the limit", async () => {
    const ns = uniqueNs("che");
    expect((await post(`${p.url}/inmemorychannels/${ns}/nope`, ev("x"), "{}")).status).toBe(404);
    const url = (await api.apply(imc(ns, "c"))).status.address.url;
    const g = await fetch(url);
    expect(g.status).toBe(405);
    expect(g.headers.get("allow")).toBe("POST, OPTIONS");
    expect((await post(url, ev("big", {}), "z".repeat(300_000))).status).toBe(413);
  });
});

describe("subscriptions: retries, dead letters, replies", () => {
  it("{retry:1, DLS}: a subscriber failing once gets 2 attempts, the DLS none", async () => {
    const ns = uniqueNs("r1");
    const url = (await api.apply(imc(ns, "c"))).status.address.url;
    const sub = await sink(failFirst(1));
    const dls = await sink();
    await api.apply(subscription(ns, "s", "c", { subscriber: { uri: sub.url }, delivery: { retry: 1, deadLetterSink: { uri: dls.url } } }));
    await ready(ns, "s");
    await send(url, ev("r1"), "{}");
    await sub.waitFor(2);
    expect((await sub.settle(500)).length).toBe(2);
    expect(dls.received).toHaveLength(0);
  });

  it("retries then dead-letters with knativeerrordest, knativeerrorcode and knativeerrordata", async () => {
    const ns = uniqueNs("dl");
    const url = (await api.apply(imc(ns, "c"))).status.address.url;
    const sub = await sink(() => ({ status: 500, body: "boom" }));
    const dls = await sink();
    await api.apply(subscription(ns, "s", "c", { subscriber: { uri: sub.url }, delivery: { retry: 2, deadLetterSink: { uri: dls.url } } }));
    await ready(ns, "s");
    await send(url, ev("d1"), '{"k":1}');
    const [dead] = await dls.waitFor(1);
    expect((await sub.settle(300)).length).toBe(3);
    expect(dead!.headers).toMatchObject({ "ce-id": "d1", "ce-knativeerrordest": sub.url, "ce-knativeerrorcode": "500", "kn-namespace": ns });
    expect(b64(dead!.headers["ce-knativeerrordata"]!)).toBe("boom");
    expect(dead!.body.toString()).toBe('{"k":1}');
  });

  it("a reply failing once is retried and arrives; the subscriber is called once", async () => {
    const ns = uniqueNs("rp");
    const url = (await api.apply(imc(ns, "c"))).status.address.url;
    const sub = await sink(appendReply("+reply"));
    const replyTo = await sink(failFirst(1));
    await api.apply(subscription(ns, "s", "c", { subscriber: { uri: sub.url }, reply: { uri: replyTo.url }, delivery: { retry: 1 } }));
    await ready(ns, "s");
    await send(url, ev("rp1", {}, "text/plain"), "data");
    const got = await replyTo.waitFor(2);
    expect(got[1]!.body.toString()).toBe("data+reply");
    expect((await sub.settle(300)).length).toBe(1);
  });

  it("a reply failing for good sends the original to the DLS with knativeerrordest = the reply URL", async () => {
    const ns = uniqueNs("rf");
    const url = (await api.apply(imc(ns, "c"))).status.address.url;
    const sub = await sink(appendReply("+reply"));
    const replyTo = await sink(() => ({ status: 503 }));
    const dls = await sink();
    await api.apply(subscription(ns, "s", "c", { subscriber: { uri: sub.url }, reply: { uri: replyTo.url }, delivery: { retry: 1, deadLetterSink: { uri: dls.url } } }));
    await ready(ns, "s");
    await send(url, ev("rf1", {}, "text/plain"), "original");
    const [dead] = await dls.waitFor(1);
    expect(dead!.headers).toMatchObject({ "ce-id": "rf1", "ce-knativeerrordest": replyTo.url, "ce-knativeerrorcode": "503" });
    expect(dead!.body.toString()).toBe("original");
    expect((await replyTo.settle(300)).length).toBe(2);
    expect(sub.received).toHaveLength(1);
  });

  it("without a reply destination, replies are discarded", async () => {
    const ns = uniqueNs("nr");
    const url = (await api.apply(imc(ns, "c"))).status.address.url;
    const sub = await sink(appendReply("+x"));
    await api.apply(subscription(ns, "s", "c", { subscriber: { uri: sub.url } }));
    await ready(ns, "s");
    await send(url, ev("nr1", {}, "text/plain"), "d");
    await sub.waitFor(1);
    await expect.poll(async () => (await api.call("GET", `/apis/${M}/namespaces/${ns}/inmemorychannels/c/stats`)).body.counters.repliesDiscarded).toBe(1);
  });

  it("a channel-level DLS applies to Subscriptions without delivery", async () => {
    const ns = uniqueNs("cdl");
    const dls = await sink();
    const c = await api.apply(imc(ns, "c", { delivery: { deadLetterSink: { uri: dls.url } } }));
    expect(c.status.deadLetterSinkUri).toBe(dls.url);
    const sub = await sink(() => ({ status: 500 }));
    await api.apply(subscription(ns, "s", "c", { subscriber: { uri: sub.url } }));
    await ready(ns, "s");
    await send(c.status.address.url, ev("cd1"), "{}");
    const [dead] = await dls.waitFor(1);
    expect(dead!.headers).toMatchObject({ "ce-id": "cd1", "kn-namespace": ns, "ce-knativeerrordest": sub.url });
  });

  it("a Channel can be another Channel's dead-letter sink", async () => {
    const ns = uniqueNs("chdls");
    const dlsSub = await sink();
    await api.apply(imc(ns, "dead"));
    await api.apply(subscription(ns, "dead-sub", "dead", { subscriber: { uri: dlsSub.url } }));
    const c = await api.apply(imc(ns, "c", { delivery: { deadLetterSink: { ref: { apiVersion: M, kind: "InMemoryChannel", name: "dead" } } } }));
    const failing = await sink(() => ({ status: 422 }));
    await api.apply(subscription(ns, "s", "c", { subscriber: { uri: failing.url } }));
    await ready(ns, "s", "dead-sub");
    const url = (await api.get(M, "InMemoryChannel", ns, "c")).body.status.address.url;
    expect((await api.get(M, "InMemoryChannel", ns, "c")).body.status.deadLetterSinkUri).toBe(`${p.url}/inmemorychannels/${ns}/dead`);
    await send(url, ev("cd2"), "{}");
    const [got] = await dlsSub.waitFor(1);
    expect(got!.headers).toMatchObject({ "ce-id": "cd2", "ce-knativeerrorcode": "422" });
    expect(c.metadata.name).toBe("c");
  });

  it("chained channels relay end to end", async () => {
    const ns = uniqueNs("chain");
    const end = await sink();
    const first = (await api.apply(imc(ns, "first"))).status.address.url;
    await api.apply(channel(ns, "second"));
    const relay = await sink(appendReply("+relayed"));
    await api.apply(subscription(ns, "a", "first", { subscriber: { uri: relay.url }, reply: { ref: { apiVersion: M, kind: "Channel", name: "second" } } }));
    await api.apply(subscription(ns, "b", "second", { subscriber: { uri: end.url } }, "Channel"));
    await ready(ns, "a", "b");
    await send(first, ev("ch1", {}, "text/plain"), "hello");
    const [got] = await end.waitFor(1);
    expect(got!.body.toString()).toBe("hello+relayed");
  });
});

describe("channel status and validation", () => {
  it("reports each Subscription as ready by uid, and the physical subscription", async () => {
    const ns = uniqueNs("st");
    const c = await api.apply(channel(ns, "c", { channelTemplate: { apiVersion: "messaging.knative.dev/v1", kind: "KafkaChannel" } }));
    expect(c.spec.channelTemplate.kind).toBe("KafkaChannel");
    const sub = await api.apply(subscription(ns, "s", "c", { subscriber: { uri: "http://127.0.0.1:9/a" }, reply: { uri: "http://127.0.0.1:9/r" } }, "Channel"));
    await ready(ns, "s");
    const s = (await api.get(M, "Subscription", ns, "s")).body;
    expect(s.status.physicalSubscription).toEqual({ subscriberUri: "http://127.0.0.1:9/a", replyUri: "http://127.0.0.1:9/r" });
    await expect.poll(async () => (await api.get(M, "Channel", ns, "c")).body.status.subscribers).toEqual([
      { uid: sub.metadata.uid, observedGeneration: 1, ready: "True" },
    ]);
  });

  it("spec.channel is immutable and must name a channel kind; a Subscription before its channel waits", async () => {
    const ns = uniqueNs("sv");
    const early = await api.apply(subscription(ns, "s", "later", { subscriber: { uri: "http://127.0.0.1:9/" } }));
    expect(early.status.conditions.find((x: any) => x.type === "Ready")).toMatchObject({ status: "False", reason: "ChannelDoesNotExist" });
    await api.apply(imc(ns, "later"));
    await ready(ns, "s");
    const moved = await api.call("PUT", `/apis/${M}/namespaces/${ns}/subscriptions/s`, subscription(ns, "s", "other", { subscriber: { uri: "http://127.0.0.1:9/" } }));
    expect(moved.status).toBe(422);
    expect(moved.body.details.causes[0].field).toBe("spec.channel");
    const bad = await api.call("PUT", `/apis/${M}/namespaces/${ns}/subscriptions/t`, { ...subscription(ns, "t", "x", { subscriber: { uri: "http://127.0.0.1:9/" } }), spec: { channel: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "x" }, subscriber: { uri: "http://127.0.0.1:9/" } } });
    expect(bad.status).toBe(422);
  });
});
