// EventTransform inside workerd: the jsonata package (it makes no code from strings, which workerd
// refuses outside tests: test/unit/transform-jsonata.test.ts checks the bundled build),
// its HTTP address, and every place Knative lets it stand (Trigger and Subscription subscriber,
// Subscription reply, Sequence step, a source's sink), with a real HTTP sink behind.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { compileTransform } from "../../core/transform/jsonata.js";
import { apply, AUTH, brokerObj, decode, getJson, ORIGIN, send, SINK, triggerObj, uid, waitLog } from "./helpers.js";

const ET = "eventing.knative.dev/v1alpha1";
const transform = (ns: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: ET, kind: "EventTransform", metadata: { name, namespace: ns }, spec });
const ref = (name: string) => ({ ref: { apiVersion: ET, kind: "EventTransform", name } });
/** Knative's Broker-reply example expression, with the type as given. */
const RETYPE = (type: string) => `{ "specversion": "1.0", "id": id, "time": time, "type": "${type}", "source": "transform.event-transformer", "data": $ }`;

async function post(path: string, attrs: Record<string, string>, body: string, headers: Record<string, string> = AUTH): Promise<Response> {
  const h: Record<string, string> = { ...headers, "Content-Type": "application/json" };
  for (const [k, v] of Object.entries(attrs)) h[`ce-${k}`] = v;
  return SELF.fetch(`${ORIGIN}${path}`, { method: "POST", headers: h, body });
}

async function ready(ns: string, plural: string, name: string): Promise<void> {
  await expect.poll(async () => (await getJson(`/apis/${plural.startsWith("eventtransforms") ? ET : plural === "triggers" || plural === "brokers" ? "eventing.knative.dev/v1" : "messaging.knative.dev/v1"}/namespaces/${ns}/${plural}/${name}`)).status?.conditions?.find((c: { type: string }) => c.type === "Ready")?.status).toBe("True");
}

describe("EventTransform in workerd", () => {
  it("compiles and evaluates JSONata inside workerd", async () => {
    const r = await compileTransform('{ "n": $sum(items.(price * qty)), "names": $join(items.sku, ",") }').evaluate({ items: [{ sku: "a", price: 2, qty: 3 }, { sku: "b", price: 1, qty: 1 }] });
    expect(r).toEqual({ value: { n: 7, names: "a,b" } });
  });

  it("answers its address with the transformed event, 400 with the reason when the expression fails, 401 without a token, 404 when there is none", async () => {
    const ns = uid("ns");
    await apply(transform(ns, "t", { jsonata: { expression: '{ "specversion": "1.0", "id": id, "source": source, "type": "out", "total": data.a + data.b, "data": { "sum": data.a + data.b } }' } }), "eventtransforms");
    await ready(ns, "eventtransforms", "t");
    const ok = await post(`/eventtransforms/${ns}/t`, { specversion: "1.0", id: "e1", source: "/s", type: "in" }, '{"a":1,"b":2}');
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toMatch(/^application\/cloudevents\+json/);
    expect(await ok.json()).toEqual({ specversion: "1.0", id: "e1", source: "/s", type: "out", total: 3, data: { sum: 3 } });
    const bad = await post(`/eventtransforms/${ns}/t`, { specversion: "1.0", id: "e2", source: "/s", type: "in" }, '{"a":"x","b":2}');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/^EventTransform "t" in namespace "\S+": spec.jsonata.expression: the expression failed at line 1, column \d+: The left side of the "\+" operator must evaluate to a number \(T2001\)/);
    expect((await post(`/eventtransforms/${ns}/t`, { specversion: "1.0", id: "e3", source: "/s", type: "in" }, "{}", {})).status).toBe(401);
    const none = await post(`/eventtransforms/${ns}/nope`, { specversion: "1.0", id: "e4", source: "/s", type: "in" }, "{}");
    expect(none.status).toBe(404);
    expect(await none.text()).toContain('eventtransform "nope" in namespace');
    const batch = await SELF.fetch(`${ORIGIN}/eventtransforms/${ns}/t`, { method: "POST", headers: { ...AUTH, "Content-Type": "application/cloudevents-batch+json" }, body: "[]" });
    expect(batch.status).toBe(400);
  });

  it("as a Trigger's subscriber without a sink, its result is the reply the Broker publishes (Knative's Broker-reply pattern)", async () => {
    const ns = uid("ns");
    const key = uid();
    await apply(brokerObj(ns, "default"), "brokers");
    await apply(transform(ns, "event-transformer", { jsonata: { expression: RETYPE("transformed.event.type") } }), "eventtransforms");
    await apply(triggerObj(ns, "transform-trigger", "default", "", { filter: { attributes: { type: "original.event.type" } }, subscriber: ref("event-transformer") }), "triggers");
    await apply(triggerObj(ns, "after", "default", `${SINK}/ok/${key}`, { filter: { attributes: { type: "transformed.event.type" } } }), "triggers");
    await ready(ns, "triggers", "transform-trigger");
    await ready(ns, "triggers", "after");
    expect((await send(ns, "default", { specversion: "1.0", id: "o1", source: "/orig", type: "original.event.type" }, '{"hello":"world"}')).status).toBe(202);
    const [got] = await waitLog(key, 1);
    expect(got!.headers).toMatchObject({ "ce-id": "o1", "ce-type": "transformed.event.type", "ce-source": "transform.event-transformer" });
    expect(JSON.parse(decode(got!.body))).toMatchObject({ specversion: "1.0", id: "o1", type: "original.event.type", data: { hello: "world" } });
  });

  it("a delivery whose expression fails goes to the dead-letter sink at once, the reason in knativeerrordata", async () => {
    const ns = uid("ns");
    const dls = uid();
    await apply(brokerObj(ns, "b"), "brokers");
    await apply(transform(ns, "t", { jsonata: { expression: '{ "specversion": "1.0", "id": id, "source": source, "type": data.kind }' } }), "eventtransforms");
    await apply(triggerObj(ns, "tr", "b", "", { subscriber: ref("t"), delivery: { retry: 3, backoffDelay: "PT0.1S", deadLetterSink: { uri: `${SINK}/ok/${dls}` } } }), "triggers");
    await ready(ns, "triggers", "tr");
    await send(ns, "b", { specversion: "1.0", id: "x1", source: "/s", type: "t" }, '{"other":1}');
    const [dead] = await waitLog(dls, 1);
    expect(dead!.headers["ce-knativeerrorcode"]).toBe("400");
    expect(dead!.headers["ce-knativeerrordest"]).toBe(`${ORIGIN}/eventtransforms/${ns}/t`);
    expect(decode(dead!.headers["ce-knativeerrordata"]!)).toMatch(/spec.jsonata.expression: the expression's result is not a valid CloudEvent: .*type/);
    expect(dead!.headers["ce-id"]).toBe("x1");
  });

  it("with a sink: the result goes there, the sink's reply is transformed by spec.reply and published, or dropped with discard", async () => {
    const ns = uid("ns");
    const [sunk, after, sunk2] = [uid(), uid(), uid()];
    await apply(brokerObj(ns, "b"), "brokers");
    await apply(transform(ns, "with-reply", {
      sink: { uri: `${SINK}/reply/sink.reply/${sunk}` },
      jsonata: { expression: '{ "specversion": "1.0", "id": id, "type": "request.transformed", "source": source, "data": data }' },
      reply: { jsonata: { expression: '{ "specversion": "1.0", "id": id, "type": "reply.transformed", "source": "transform.reply-processor", "data": data }' } },
    }), "eventtransforms");
    await apply(transform(ns, "discarding", { sink: { uri: `${SINK}/reply/sink.reply/${sunk2}` }, jsonata: { expression: RETYPE("request.discarding") }, reply: { discard: true } }), "eventtransforms");
    await apply(triggerObj(ns, "a", "b", "", { filter: { attributes: { type: "go" } }, subscriber: ref("with-reply") }), "triggers");
    await apply(triggerObj(ns, "d", "b", "", { filter: { attributes: { type: "go" } }, subscriber: ref("discarding") }), "triggers");
    await apply(triggerObj(ns, "replies", "b", `${SINK}/ok/${after}`, { filter: { attributes: { source: "transform.reply-processor" } } }), "triggers");
    for (const t of ["a", "d", "replies"]) await ready(ns, "triggers", t);
    const status = await getJson(`/apis/${ET}/namespaces/${ns}/eventtransforms/with-reply`);
    expect(status.status.sinkUri).toBe(`${SINK}/reply/sink.reply/${sunk}`);
    await send(ns, "b", { specversion: "1.0", id: "g1", source: "/s", type: "go" }, '{"n":1}');
    const [atSink] = await waitLog(sunk, 1);
    expect(atSink!.headers).toMatchObject({ "ce-type": "request.transformed", "ce-id": "g1" });
    const [reply] = await waitLog(after, 1);
    expect(reply!.headers).toMatchObject({ "ce-type": "reply.transformed", "ce-id": "reply-1" });
    expect(JSON.parse(decode(reply!.body))).toEqual({ replyTo: "g1" });
    await waitLog(sunk2, 1);
    await expect.poll(async () => (await getJson(`/apis/${ET}/namespaces/${ns}/eventtransforms/discarding/stats`)).counters?.repliesDiscarded).toBe(1);
  });

  it("as a Subscription's subscriber and reply, and as a Sequence step", async () => {
    const ns = uid("ns");
    const [viaSub, viaSeq] = [uid(), uid()];
    const M = "messaging.knative.dev/v1";
    await apply(transform(ns, "upper", { jsonata: { expression: '{ "specversion": "1.0", "id": id, "source": source, "type": "upper", "data": { "text": $uppercase(data.text) } }' } }), "eventtransforms");
    await apply(transform(ns, "forward", { sink: { uri: `${SINK}/ok/${viaSub}` }, jsonata: { expression: '$merge([$, { "forwarded": "yes" }])' } }), "eventtransforms");
    await apply({ apiVersion: M, kind: "InMemoryChannel", metadata: { name: "c", namespace: ns }, spec: {} }, "inmemorychannels");
    await apply({ apiVersion: M, kind: "Subscription", metadata: { name: "s", namespace: ns }, spec: { channel: { apiVersion: M, kind: "InMemoryChannel", name: "c" }, subscriber: ref("upper"), reply: ref("forward") } }, "subscriptions");
    await apply({ apiVersion: "flows.knative.dev/v1", kind: "Sequence", metadata: { name: "seq", namespace: ns }, spec: { steps: [ref("upper")], reply: { uri: `${SINK}/ok/${viaSeq}` } } }, "sequences");
    await ready(ns, "subscriptions", "s");
    await expect.poll(async () => (await getJson(`/apis/flows.knative.dev/v1/namespaces/${ns}/sequences/seq`)).status?.conditions?.find((c: { type: string }) => c.type === "Ready")?.status).toBe("True");
    expect((await post(`/inmemorychannels/${ns}/c`, { specversion: "1.0", id: "s1", source: "/s", type: "t" }, '{"text":"abc"}')).status).toBe(202);
    expect((await post(`/sequences/${ns}/seq`, { specversion: "1.0", id: "q1", source: "/s", type: "t" }, '{"text":"xyz"}')).status).toBe(202);
    const [sub] = await waitLog(viaSub, 1);
    expect(sub!.headers).toMatchObject({ "ce-type": "upper", "ce-forwarded": "yes", "ce-id": "s1" });
    expect(JSON.parse(decode(sub!.body))).toEqual({ text: "ABC" });
    const [seq] = await waitLog(viaSeq, 1);
    expect(JSON.parse(decode(seq!.body))).toEqual({ text: "XYZ" });
  });

  it("as a source's sink: a webhook's event is transformed and sent on to the transform's own sink", async () => {
    const ns = uid("ns");
    const k = uid();
    await apply(transform(ns, "shape", { sink: { uri: `${SINK}/ok/${k}` }, jsonata: { expression: '{ "specversion": "1.0", "id": id, "source": source, "type": "shaped", "data": { "n": data.n * 10 } }' } }), "eventtransforms");
    await apply({
      apiVersion: "sources.eddy.dev/v1alpha1", kind: "WebhookSource", metadata: { name: "w", namespace: ns },
      spec: { provider: "generic-hmac", secrets: ["SECRET_TEST_WEBHOOK"], genericHmac: { header: "X-Sig", idHeader: "X-Id" }, sink: ref("shape") },
    }, "webhooksources");
    await expect.poll(async () => (await getJson(`/apis/sources.eddy.dev/v1alpha1/namespaces/${ns}/webhooksources/w`)).status?.sinkUri).toBe(`${ORIGIN}/eventtransforms/${ns}/shape`);
    const body = '{"n":4}';
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("test-token"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const sig = [...new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)))].map((b) => b.toString(16).padStart(2, "0")).join("");
    const r = await SELF.fetch(`${ORIGIN}/webhooks/${ns}/w`, { method: "POST", headers: { "X-Sig": sig, "X-Id": "d-1", "Content-Type": "application/json" }, body });
    expect(r.status).toBe(202);
    const [got] = await waitLog(k, 1);
    expect(got!.headers["ce-type"]).toBe("shaped");
    expect(JSON.parse(decode(got!.body))).toEqual({ n: 40 });
  });

  it("posted to directly with a sink (rekt JsonataSink, JsonataSinkReplyTransform): the sink gets the result, the sender its status or the transformed reply", async () => {
    const ns = uid("ns");
    const [plain, replying] = [uid(), uid()];
    const expression = '{ "specversion": "1.0", "id": id, "type": "transformed-event", "source": source, "reason": data.reason, "kind": "input", "data": $ }';
    await apply(transform(ns, "to-sink", { sink: { uri: `${SINK}/ok/${plain}` }, jsonata: { expression } }), "eventtransforms");
    await apply(transform(ns, "reply", { sink: { uri: `${SINK}/reply/reply-event-type/${replying}` }, jsonata: { expression }, reply: { jsonata: { expression: '{ "specversion": "1.0", "id": id, "type": type, "source": source, "kind": "transformed", "data": $ }' } } }), "eventtransforms");
    await ready(ns, "eventtransforms", "to-sink");
    await ready(ns, "eventtransforms", "reply");
    const attrs = { specversion: "1.0", id: "k1", source: "my-source", type: "my-type" };
    const toSink = await post(`/eventtransforms/${ns}/to-sink`, attrs, '{"reason":"test-reason"}');
    expect(toSink.status).toBe(202); // the sink's own answer
    const [got] = await waitLog(plain, 1);
    expect(got!.headers).toMatchObject({ "ce-id": "k1", "ce-source": "my-source", "ce-type": "transformed-event", "ce-reason": "test-reason", "ce-kind": "input" });
    expect(JSON.parse(decode(got!.body))).toMatchObject({ id: "k1", source: "my-source", type: "my-type", data: { reason: "test-reason" } });
    const replied = await post(`/eventtransforms/${ns}/reply`, attrs, '{"reason":"test-reason"}');
    expect(replied.status).toBe(200);
    const body = await replied.json() as Record<string, unknown>;
    expect(body).toMatchObject({ type: "reply-event-type", source: "/sink", kind: "transformed", data: { type: "reply-event-type", source: "/sink", data: { replyTo: "k1" } } });
  });
});
