// RequestReply inside workerd: a request held by its shard until the reply comes back through the
// Broker's reply Trigger, the reply Trigger managed by Eddy, forged and late replies dropped, the
// timeout and the cap (REQUEST_REPLY_MAX_WAITING is 4 in vitest.config.ts).
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { apply, AUTH, brokerObj, getJson, ORIGIN, send, SINK, triggerObj, uid, waitLog } from "./helpers.js";

const RR = "eventing.knative.dev/v1alpha1";
const rr = (ns: string, name: string, spec: Record<string, unknown> = {}, annotations?: Record<string, string>) => ({
  apiVersion: RR, kind: "RequestReply", metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) },
  spec: { brokerRef: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "b" }, ...spec },
});

function request(ns: string, name: string, id: string, body: string, headers: Record<string, string> = AUTH): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/requestreplies/${ns}/${name}`, {
    method: "POST", body,
    headers: { ...headers, "Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": id, "ce-source": "/client", "ce-type": "req" },
  });
}

async function setup(spec: Record<string, unknown> = {}, responder = true, brokerAnnotations?: Record<string, string>): Promise<{ ns: string; seen: string }> {
  const ns = uid("ns");
  const seen = uid();
  await apply({ ...brokerObj(ns, "b"), metadata: { name: "b", namespace: ns, ...(brokerAnnotations ? { annotations: brokerAnnotations } : {}) } }, "brokers");
  await apply(triggerObj(ns, "responder", "b", responder ? `${SINK}/respond/resp/${seen}` : `${SINK}/ok/${seen}`, { filter: { attributes: { type: "req" } } }), "triggers");
  await apply(rr(ns, "rr", spec), "requestreplies");
  await expect.poll(async () => (await getJson(`/apis/${RR}/namespaces/${ns}/requestreplies/rr`)).status?.conditions?.find((c: { type: string }) => c.type === "Ready")?.status).toBe("True");
  return { ns, seen };
}

const stats = (ns: string) => getJson(`/apis/${RR}/namespaces/${ns}/requestreplies/rr/stats`);

describe("RequestReply in workerd", () => {
  it("answers a request with the reply that comes back through the Broker, in binary mode", async () => {
    const { ns, seen } = await setup();
    const r = await request(ns, "rr", "q1", '{"ask":42}');
    expect(r.status).toBe(200);
    expect(JSON.parse(await r.text())).toEqual({ ask: 42 });
    const [atResponder] = await waitLog(seen, 1);
    const cid = atResponder!.headers["ce-correlationid"]!;
    expect(cid).toMatch(/^[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:0$/);
    expect(r.headers.get("ce-replyid")).toBe(cid);
    expect(r.headers.get("ce-type")).toBe("resp");
    expect(r.headers.get("ce-source")).toBe("/responder");
    expect((await stats(ns)).counters).toMatchObject({ requests: 1, replies: 1 });
  });

  it("its reply Trigger is visible, owned by it, refused to clients, and goes with it", async () => {
    const { ns } = await setup();
    const t = await getJson(`/apis/eventing.knative.dev/v1/namespaces/${ns}/triggers/rr0-1`);
    expect(t.metadata.ownerReferences).toEqual([{ apiVersion: RR, kind: "RequestReply", name: "rr", uid: expect.any(String), controller: true, blockOwnerDeletion: true }]);
    expect(t.metadata.labels).toMatchObject({ "eventing.knative.dev/RequestReply.name": "rr" });
    const put = await SELF.fetch(`${ORIGIN}/apis/eventing.knative.dev/v1/namespaces/${ns}/triggers/rr0-1`, { method: "PUT", headers: { ...AUTH, "Content-Type": "application/json" }, body: JSON.stringify({ ...t, spec: { ...t.spec, filters: [] } }) });
    expect(put.status).toBe(403);
    expect(((await put.json()) as { message: string }).message).toContain('is managed by RequestReply "rr"');
    const del = await SELF.fetch(`${ORIGIN}/apis/eventing.knative.dev/v1/namespaces/${ns}/triggers/rr0-1`, { method: "DELETE", headers: AUTH });
    expect(del.status).toBe(403);
    await SELF.fetch(`${ORIGIN}/apis/${RR}/namespaces/${ns}/requestreplies/rr`, { method: "DELETE", headers: AUTH });
    expect((await SELF.fetch(`${ORIGIN}/apis/eventing.knative.dev/v1/namespaces/${ns}/triggers/rr0-1`, { headers: AUTH })).status).toBe(404);
  });

  it("answers 504 at its timeout, saying what was expected; a reply after that is counted and dropped, as are forged ones", async () => {
    const { ns, seen } = await setup({ timeout: "PT1S" }, false);
    const started = Date.now();
    const r = await request(ns, "rr", "q-slow", "{}");
    expect(r.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    const text = await r.text();
    expect(text).toMatch(/^no reply within 1 s \(spec.timeout of RequestReply "rr"\): the event "q-slow" went to Broker "b" with correlationid=\S+, and no event with replyid=\S+ came back/);
    const [req] = await waitLog(seen, 1);
    const cid = req!.headers["ce-correlationid"]!;
    // The late reply, and one whose id was not signed here, both published to the Broker.
    expect((await send(ns, "b", { specversion: "1.0", id: "late", source: "/late", type: "resp", replyid: cid })).status).toBe(202);
    const forged = cid.replace(/:([A-Za-z0-9_-])/, (_m, c: string) => `:${c === "A" ? "B" : "A"}`);
    expect((await send(ns, "b", { specversion: "1.0", id: "forged", source: "/x", type: "resp", replyid: forged })).status).toBe(202);
    await expect.poll(async () => (await stats(ns)).counters?.["dropped.reply-after-timeout"]).toBe(1);
    const s = await stats(ns);
    expect(s.counters).toMatchObject({ timedOut: 1 });
    expect(s.counters["dropped.reply-forged"]).toBeUndefined(); // the reply Trigger's filter never let it through
    // Posted to the reply address directly (the admin token may), it is checked there too.
    const direct = await SELF.fetch(`${ORIGIN}/requestreplies/${ns}/rr/replies/0`, { method: "POST", headers: { ...AUTH, "ce-specversion": "1.0", "ce-id": "f2", "ce-source": "/x", "ce-type": "resp", "ce-replyid": forged } });
    expect(direct.status).toBe(202);
    expect((await stats(ns)).counters["dropped.reply-forged"]).toBe(1);
    expect((await stats(ns)).recentDrops.map((d: { reason: string }) => d.reason)).toEqual(expect.arrayContaining(["reply-after-timeout", "reply-forged"]));
  });

  it("answers 429 with Retry-After once a shard holds its limit of waiting requests", async () => {
    const { ns } = await setup({ timeout: "PT2S" }, false);
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => request(ns, "rr", `c${i}`, "{}")));
    const codes = answers.map((a) => a.status).sort();
    expect(codes).toEqual([429, 429, 504, 504, 504, 504]);
    const refused = answers.find((a) => a.status === 429)!;
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.text()).toContain("already holds 4 requests waiting for their replies (REQUEST_REPLY_MAX_WAITING per shard)");
  });

  it("works over a partitioned Broker, with two shards, and every caller gets its own reply", async () => {
    const { ns } = await setup({}, true, { "eddy.dev/partitions": "3" });
    await apply(rr(ns, "two", {}, { "eddy.dev/partitions": "2" }), "requestreplies");
    await expect.poll(async () => (await getJson(`/apis/${RR}/namespaces/${ns}/requestreplies/two`)).status?.readyReplicas).toBe(2);
    await expect.poll(async () => (await getJson(`/apis/${RR}/namespaces/${ns}/requestreplies/two`)).status?.conditions?.find((c: { type: string }) => c.type === "Ready")?.status).toBe("True");
    const answers = await Promise.all(Array.from({ length: 4 }, async (_, i) => {
      const r = await request(ns, i % 2 ? "rr" : "two", `p${i}`, JSON.stringify({ caller: i }));
      return { status: r.status, body: await r.text() };
    }));
    expect(answers).toEqual(Array.from({ length: 4 }, (_, i) => ({ status: 200, body: JSON.stringify({ caller: i }) })));
  });

  it("spec.delivery governs the forward leg: a Broker that refuses it sends the request to the dead-letter sink, and the caller hears 504", async () => {
    const ns = uid("ns");
    const dls = uid();
    await apply(brokerObj(ns, "b"), "brokers");
    await apply({ apiVersion: RR, kind: "EventPolicy", metadata: { name: "others-only", namespace: ns }, spec: { to: [{ ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "b" } }], from: [{ sub: "system:serviceaccount:elsewhere:*" }] } }, "eventpolicies");
    await apply(rr(ns, "rr", { timeout: "PT1S", delivery: { retry: 0, deadLetterSink: { uri: `${SINK}/ok/${dls}` } } }), "requestreplies");
    await expect.poll(async () => (await getJson(`/apis/${RR}/namespaces/${ns}/requestreplies/rr`)).status?.conditions?.find((c: { type: string }) => c.type === "Ready")?.status).toBe("True");
    const r = await request(ns, "rr", "refused-1", '{"x":1}');
    expect(r.status).toBe(504);
    const [dead] = await waitLog(dls, 1);
    expect(dead!.headers).toMatchObject({ "ce-id": "refused-1", "ce-knativeerrorcode": "403", "ce-knativeerrordest": `${ORIGIN}/brokers/${ns}/b` });
    expect(dead!.headers["ce-correlationid"]).toMatch(/:0$/);
  });

  it("refuses without a token (401), when it does not exist (404), and a batch (400)", async () => {
    const { ns } = await setup();
    expect((await request(ns, "rr", "n1", "{}", {})).status).toBe(401);
    const none = await request(ns, "nope", "n2", "{}");
    expect(none.status).toBe(404);
    expect(await none.text()).toContain('requestreply "nope" in namespace');
    const batch = await SELF.fetch(`${ORIGIN}/requestreplies/${ns}/rr`, { method: "POST", headers: { ...AUTH, "Content-Type": "application/cloudevents-batch+json" }, body: "[]" });
    expect(batch.status).toBe(400);
  });
});
