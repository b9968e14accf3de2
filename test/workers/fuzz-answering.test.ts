// Property-based fuzzing of the addresses that answer with an event: an EventTransform (with an
// expression that reads the data) and a RequestReply whose responder answers at once. Random
// methods, paths, headers, content types and bodies; the same checks as the ingress suite, except
// that a RequestReply's 504 (its timeout) is an answer, not a failure.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bodies, contentType, extraHeaders, method, segment } from "./fuzz/arbitraries.js";
import { AUTH, expectExplained, fixture, fuzz, MAX_EVENT_BYTES, request, RUNS, send, stillDelivers, TIMEOUT } from "./fuzz/support.js";
import { apply, getJson, SINK, triggerObj, uid } from "./helpers.js";

const ET = "eventing.knative.dev/v1alpha1";

describe("fuzzing the answering addresses", () => {
  it(`answers ${RUNS} adversarial requests to an EventTransform and a RequestReply without a 5xx, explaining every 4xx`, async () => {
    const fx = await fixture();
    const ns = fx.ns;
    await apply({ apiVersion: ET, kind: "EventTransform", metadata: { name: "t", namespace: ns }, spec: { jsonata: { expression: '{ "specversion": "1.0", "id": id, "source": source, "type": "t2", "n": data.a + 1, "data": data.b }' } } }, "eventtransforms");
    await apply(triggerObj(ns, "responder", "default", `${SINK}/respond/fuzz.answer/${uid("resp")}`, { filter: { attributes: { type: "fuzz.event" } } }), "triggers");
    await apply({ apiVersion: ET, kind: "RequestReply", metadata: { name: "rr", namespace: ns }, spec: { brokerRef: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "default" }, timeout: "PT2S" } }, "requestreplies");
    for (const plural of ["eventtransforms/t", "requestreplies/rr"]) {
      await expect.poll(async () => (await getJson(`/apis/${ET}/namespaces/${ns}/${plural}`)).status?.conditions?.find((c: { type: string }) => c.type === "Ready")?.status).toBe("True");
    }
    const paths = [`/eventtransforms/${ns}/t`, `/requestreplies/${ns}/rr`, `/requestreplies/${ns}/rr/replies/0`];
    const target = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...paths) },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom("/eventtransforms", "/requestreplies"), fc.array(segment, { minLength: 0, maxLength: 5 })).map(([p, segs]) => [p, ...segs].join("/")) },
      { weight: 1, arbitrary: fc.constantFrom(`/requestreplies/${ns}/rr/replies/9`, `/requestreplies/${ns}/rr/replies/x`, `/eventtransforms/${ns}/t/`, "/eventtransforms/%zz/%E2") },
    );
    const attrs = fc.record({ specversion: fc.constantFrom("1.0", "0.3"), id: fc.uuid(), source: fc.constant("/fuzz"), type: fc.constant("fuzz.event"), replyid: fc.constantFrom("", "a:b:0", "x") });
    const cases = fc.record({
      method, path: target, contentType: fc.option(contentType, { nil: undefined }), binary: fc.option(attrs, { nil: undefined }),
      headers: extraHeaders, body: bodies(MAX_EVENT_BYTES),
    });
    const counts = new Map<number, number>();
    const ran = await fuzz(cases, async (c) => {
      const headers = new Headers(AUTH);
      try {
        if (c.binary) for (const [k, v] of Object.entries(c.binary)) if (v !== "") headers.set(`ce-${k}`, v);
        for (const [k, v] of Object.entries(c.headers)) headers.set(k, v);
        if (c.contentType !== undefined) headers.set("content-type", c.contentType);
      } catch {
        return;
      }
      const withBody = c.method !== "GET" && c.method !== "HEAD";
      const req = request(c.path, { method: c.method, headers, ...(withBody ? { body: c.body } : {}) });
      if (!req) return;
      const a = await send(req);
      counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
      const what = `${c.method} ${c.path} (${c.contentType ?? "no type"}, ${c.body.length} bytes)`;
      if (a.status === 504 && c.path.startsWith("/requestreplies/")) return; // no reply within the timeout: an answer
      expectExplained(what, c.method, a, false);
    }, () => stillDelivers(fx));
    expect(ran).toBe(RUNS);
    // Both sides reached: answers with events, and refusals.
    expect(counts.get(200) ?? 0, JSON.stringify([...counts])).toBeGreaterThan(0);
    expect(counts.get(400) ?? 0, JSON.stringify([...counts])).toBeGreaterThan(0);
  }, TIMEOUT + RUNS * 100);
});
