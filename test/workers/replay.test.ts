// The archive (`eddy.dev/archive-retention`): accepted events written to R2 in time-ordered batches,
// expired batches swept; and Replays of a window through the ordinary delivery.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { apply, AUTH, brokerObj, decode, ORIGIN, send, SINK, sinkLog, triggerObj, uid, waitLog } from "./helpers.js";

const ARCHIVED = { "eddy.dev/archive-retention": "P1D" };
const ORDERED = { "eddy.dev/delivery-order": "ordered" };
const bucket = (env as unknown as { ARCHIVE: R2Bucket }).ARCHIVE;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function replayObj(ns: string, name: string, spec: Record<string, unknown>) {
  return { apiVersion: "eventing.eddy.dev/v1alpha1", kind: "Replay", metadata: { name, namespace: ns }, spec };
}

async function replayStatus(ns: string, name: string): Promise<any> {
  const r = await SELF.fetch(`${ORIGIN}/apis/eventing.eddy.dev/v1alpha1/namespaces/${ns}/replays/${name}`, { headers: AUTH });
  return (await r.json() as any).status;
}

async function succeeded(ns: string, name: string): Promise<any> {
  await expect.poll(async () => (await replayStatus(ns, name))?.conditions?.[0]?.status, { timeout: 15_000 }).not.toBe("Unknown");
  return replayStatus(ns, name);
}

async function archiveKeys(prefix: string): Promise<string[]> {
  return (await bucket.list({ prefix })).objects.map((o) => o.key);
}

/** Sends `ids` of `type` one after another; returns the time just before the first and just after the last. */
async function sendAll(ns: string, ids: string[], type: string): Promise<{ from: number; to: number }> {
  const from = Date.now();
  for (const id of ids) expect((await send(ns, "default", { specversion: "1.0", id, source: "/s", type }, `{"id":"${id}"}`)).status).toBe(202);
  const to = Date.now();
  return { from, to };
}

describe("archive", () => {
  it("writes accepted events to R2 in time-ordered batches, not one object per event", async () => {
    const ns = uid("ns");
    await apply({ ...brokerObj(ns, "default"), metadata: { name: "default", namespace: ns, annotations: ARCHIVED } }, "brokers");
    const k = uid();
    await apply(triggerObj(ns, "t", "default", `${SINK}/ok/${k}`), "triggers");
    const ids = Array.from({ length: 20 }, (_, i) => `a${i}`);
    await sendAll(ns, ids, "t");
    // Events no Trigger takes are archived too: they were accepted.
    await sendAll(ns, ["unrouted"], "other");
    await waitLog(k, 20);
    await expect.poll(() => archiveKeys(`archive/${ns}/default/`), { timeout: 10_000 }).not.toEqual([]);
    await sleep(1500);
    const keys = await archiveKeys(`archive/${ns}/default/`);
    expect(keys.length).toBeLessThan(21);
    expect([...keys].sort()).toEqual(keys);
    const lines = (await Promise.all(keys.map(async (key) => (await (await bucket.get(key))!.text()).trim().split("\n")))).flat();
    const archived = lines.map((l) => JSON.parse(l));
    expect(archived.map((a) => a.attrs.id)).toEqual([...ids, "unrouted"]);
    expect(archived.map((a) => a.seq)).toEqual([...archived.map((a) => a.seq)].sort((x, y) => x - y));
    expect(new TextDecoder().decode(Uint8Array.from(atob(archived[0].data), (c) => c.charCodeAt(0)))).toBe('{"id":"a0"}');
  });

  it("deletes batches older than the retention, and a Replay of them fails with the reason", async () => {
    const ns = uid("ns");
    await apply({ ...brokerObj(ns, "default"), metadata: { name: "default", namespace: ns, annotations: { "eddy.dev/archive-retention": "PT2S" } } }, "brokers");
    await apply(triggerObj(ns, "t", "default", `${SINK}/ok/${uid()}`), "triggers");
    const { from } = await sendAll(ns, ["x1", "x2"], "t");
    await expect.poll(() => archiveKeys(`archive/${ns}/default/`), { timeout: 10_000 }).not.toEqual([]);
    await expect.poll(() => archiveKeys(`archive/${ns}/default/`), { timeout: 15_000, interval: 500 }).toEqual([]);
    await apply(replayObj(ns, "late", { broker: "default", from: new Date(from).toISOString(), to: new Date().toISOString() }), "replays");
    const st = await succeeded(ns, "late");
    expect(st.conditions[0]).toMatchObject({ status: "False", reason: "WindowBeyondRetention" });
    expect(st.conditions[0].message).toContain("PT2S");
  });
});

describe("Replay", () => {
  it("delivers exactly its window, in acceptance order, marked, to the Trigger it names and no other", async () => {
    const ns = uid("ns");
    await apply({ ...brokerObj(ns, "default"), metadata: { name: "default", namespace: ns, annotations: ARCHIVED } }, "brokers");
    const ka = uid();
    const kb = uid();
    await apply({ ...triggerObj(ns, "a", "default", `${SINK}/ok/${ka}`, { filter: { attributes: { type: "t.a" } } }), metadata: { name: "a", namespace: ns, annotations: ORDERED } }, "triggers");
    await apply(triggerObj(ns, "b", "default", `${SINK}/ok/${kb}`), "triggers");
    await sendAll(ns, ["before1", "before2"], "t.a");
    await sleep(20);
    const window = Array.from({ length: 30 }, (_, i) => `w${i}`);
    const { from } = await sendAll(ns, window.slice(0, 15), "t.a");
    await sendAll(ns, ["other"], "t.other"); // in the window, but Trigger a does not take it
    const { to } = await sendAll(ns, window.slice(15), "t.a");
    await sleep(20);
    await sendAll(ns, ["after1"], "t.a");
    await waitLog(ka, 33);
    await waitLog(kb, 34);

    await apply(replayObj(ns, "fix-a", { broker: "default", trigger: "a", from: new Date(from).toISOString(), to: new Date(to).toISOString() }), "replays");
    const st = await succeeded(ns, "fix-a");
    expect(st.conditions[0]).toMatchObject({ type: "Succeeded", status: "True", reason: "Completed" });
    expect(st.replayed).toBe(30);
    expect((await (await SELF.fetch(`${ORIGIN}/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers/default/stats`, { headers: AUTH })).json() as any).counters)
      .toMatchObject({ accepted: 34, replayed: 30, delivered: 33 + 34 + 30 });
    expect(st.progress).toMatchObject({ partitions: 1, partitionsDone: 1 });
    // Succeeded means delivered: every replayed delivery has already reached the subscriber.
    const replayed = (await sinkLog(ka)).slice(33);
    expect(replayed.length).toBe(30);
    expect(replayed.map((r) => r.headers["ce-id"])).toEqual(window);
    expect(new Set(replayed.map((r) => r.headers["ce-eddyreplay"]))).toEqual(new Set(["fix-a"]));
    expect(decode(replayed[0]!.body)).toBe('{"id":"w0"}');
    await sleep(300);
    expect((await sinkLog(kb)).length).toBe(34);
    expect((await sinkLog(ka)).length).toBe(63);
  });

  it("by default goes to every Trigger of now whose filter matches, narrowed by spec.filters", async () => {
    const ns = uid("ns");
    await apply({ ...brokerObj(ns, "default"), metadata: { name: "default", namespace: ns, annotations: ARCHIVED } }, "brokers");
    const { from } = await sendAll(ns, ["e1", "e2", "e3"], "t");
    const { to } = await sendAll(ns, ["f1", "f2"], "u");
    // A Trigger created after the events were accepted still gets them in a replay.
    const k = uid();
    await apply(triggerObj(ns, "late", "default", `${SINK}/ok/${k}`), "triggers");
    await apply(replayObj(ns, "all-t", { broker: "default", from: new Date(from).toISOString(), to: new Date(to).toISOString(), filters: [{ exact: { type: "t" } }] }), "replays");
    expect((await succeeded(ns, "all-t")).replayed).toBe(3);
    const got = await sinkLog(k);
    expect(got.map((r) => r.headers["ce-id"]).sort()).toEqual(["e1", "e2", "e3"]);
  });

  it("fails with a reason when the target does not archive, or the Trigger does not exist; its spec cannot change", async () => {
    const ns = uid("ns");
    await apply(brokerObj(ns, "plain"), "brokers");
    const now = new Date().toISOString();
    await apply(replayObj(ns, "r1", { broker: "plain", from: now, to: now }), "replays");
    expect((await succeeded(ns, "r1")).conditions[0]).toMatchObject({ status: "False", reason: "ArchiveOff" });
    await apply({ ...brokerObj(ns, "arch"), metadata: { name: "arch", namespace: ns, annotations: ARCHIVED } }, "brokers");
    await apply(replayObj(ns, "r2", { broker: "arch", trigger: "nope", from: now, to: now }), "replays");
    expect((await succeeded(ns, "r2")).conditions[0]).toMatchObject({ status: "False", reason: "TriggerNotFound" });
    await apply(replayObj(ns, "r3", { broker: "gone", from: now, to: now }), "replays");
    expect((await succeeded(ns, "r3")).conditions[0]).toMatchObject({ status: "False", reason: "TargetNotFound" });

    const r = await SELF.fetch(`${ORIGIN}/apis/eventing.eddy.dev/v1alpha1/namespaces/${ns}/replays/r1`, {
      method: "PUT", headers: { ...AUTH, "Content-Type": "application/json" },
      body: JSON.stringify(replayObj(ns, "r1", { broker: "plain", from: now, to: new Date(Date.now() + 1000).toISOString() })),
    });
    expect(r.status).toBe(422);
    const bad = await SELF.fetch(`${ORIGIN}/apis/eventing.eddy.dev/v1alpha1/namespaces/${ns}/replays`, {
      method: "POST", headers: { ...AUTH, "Content-Type": "application/json" },
      body: JSON.stringify(replayObj(ns, "r4", { broker: "arch", from: "yesterday", to: now })),
    });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(await bad.json())).toContain("RFC 3339");
  });

  it("stops when deleted: nothing more of the window is read", async () => {
    const ns = uid("ns");
    await apply({ ...brokerObj(ns, "default"), metadata: { name: "default", namespace: ns, annotations: ARCHIVED } }, "brokers");
    const from = Date.now();
    for (let b = 0; b < 10; b++) {
      const batch = Array.from({ length: 100 }, (_, i) => ({ specversion: "1.0", id: `d${b * 100 + i}`, source: "/s", type: "t" }));
      const r = await SELF.fetch(`${ORIGIN}/brokers/${ns}/default`, { method: "POST", headers: { ...AUTH, "Content-Type": "application/cloudevents-batch+json" }, body: JSON.stringify(batch) });
      expect(r.status).toBe(202);
    }
    const to = Date.now();
    // A subscriber that keeps failing (long backoff) keeps the replay's deliveries pending, so it
    // records at most a few hundred events and then waits for room.
    const k = uid();
    await apply(triggerObj(ns, "slow", "default", `${SINK}/status/503/${k}`, { delivery: { retry: 3, backoffPolicy: "linear", backoffDelay: "PT30S" } }), "triggers");
    await apply(replayObj(ns, "big", { broker: "default", from: new Date(from).toISOString(), to: new Date(to).toISOString() }), "replays");
    await expect.poll(async () => (await replayStatus(ns, "big"))?.replayed ?? 0, { timeout: 10_000 }).toBeGreaterThan(0);
    const del = await SELF.fetch(`${ORIGIN}/apis/eventing.eddy.dev/v1alpha1/namespaces/${ns}/replays/big`, { method: "DELETE", headers: AUTH });
    expect(del.status).toBe(200);
    const stats = async () => (await (await SELF.fetch(`${ORIGIN}/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers/default/stats`, { headers: AUTH })).json() as any).pending;
    const pendingAtDelete = await stats();
    await sleep(1500);
    // What it had handed to delivery stays (and is retried); nothing more of the 1,000 was recorded.
    expect(await stats()).toBe(pendingAtDelete);
    expect(pendingAtDelete).toBeLessThan(1000);
    expect(pendingAtDelete).toBeGreaterThan(0);
  });
});
