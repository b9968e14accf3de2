// Replays of an archiving Broker (`eddy.dev/archive-retention`) against Eddy started with `npm start`,
// as a user runs them: through the API, across a kill -9 of the whole runtime, across partitions,
// and with `eddy replay --wait`.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders, post } from "../support/emit.js";
import { ROOT, startPlatform, type Platform } from "../support/platform.js";
import { sinkPool, startSink, type Received, type Sink } from "../support/sink.js";

const V1 = "eventing.knative.dev/v1";
const REPLAYS = "/apis/eventing.eddy.dev/v1alpha1/namespaces";
const ARCHIVED = { "eddy.dev/archive-retention": "P1D" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function replay(ns: string, name: string, spec: Record<string, unknown>) {
  return { apiVersion: "eventing.eddy.dev/v1alpha1", kind: "Replay", metadata: { name, namespace: ns }, spec };
}

const ev = (token: string, id: string, extra: Record<string, string> = {}) =>
  ({ ...binaryHeaders({ specversion: "1.0", id, source: "/replay", type: "com.example.replay", ...extra }), Authorization: `Bearer ${token}` });

/** Publishes `ids`, `concurrency` at a time; every one must be accepted. */
async function publish(url: string, token: string, ids: string[], concurrency = 16, extra: (id: string, i: number) => Record<string, string> = () => ({})): Promise<void> {
  for (let i = 0; i < ids.length; i += concurrency) {
    await Promise.all(ids.slice(i, i + concurrency).map(async (id, j) => {
      const r = await post(url, ev(token, id, extra(id, i + j)), `{"id":"${id}"}`);
      expect(r.status, id).toBe(202);
    }));
  }
}

const isReplayOf = (name: string) => (r: Received) => r.headers["ce-eddyreplay"] === name;
const live = (r: Received) => r.headers["ce-eddyreplay"] === undefined;

/** The Replay once Succeeded is True or False. */
async function finished(api: Api, ns: string, name: string, timeout = 60_000): Promise<any> {
  let last: any;
  await expect.poll(async () => {
    last = (await api.call("GET", `${REPLAYS}/${ns}/replays/${name}`)).body;
    return last?.status?.conditions?.find((c: any) => c.type === "Succeeded")?.status ?? "Unknown";
  }, { timeout, interval: 250 }).not.toBe("Unknown");
  return last;
}

describe("Replay across a kill -9", () => {
  let platform: Platform | undefined;
  let sink: Sink | undefined;
  afterEach(async () => {
    await platform?.stop();
    await sink?.close();
    platform = undefined;
    sink = undefined;
  });

  it("resumes after kill -9 mid-replay: every event of the window arrives marked, and replayed counts each once", { timeout: 150_000 }, async () => {
    const started = Date.now();
    // Short leases: deliveries that were out when the runtime died are sent again seconds after the restart.
    const args = ["--var", "LEASE_SLACK_SECONDS:2"];
    platform = await startPlatform({ extraArgs: args });
    const persistDir = platform.persistDir;
    // Live deliveries are answered at once. Replayed ones too, the first ACKED of them; then the sink
    // holds every answer until the runtime is killed, so the ledger's backlog stays high and the
    // replay cannot record the whole window before the kill (it records while fewer than 400 are pending).
    const ACKED = 100;
    let acked = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let killed = false;
    sink = await startSink(async (req) => {
      if (!live(req)) {
        if (killed) await sleep(20); // after the restart: a slow subscriber
        else if (++acked > ACKED) await gate;
      }
      return { status: 202 };
    });
    const ns = uniqueNs("rkill");
    let api = new Api(platform);
    const url = (await api.apply(broker(ns, "default", {}, ARCHIVED))).status.address.url.replace(/:\d+\//, `:${platform.port}/`);
    await api.apply(trigger(ns, "t", "default", sink.url, { delivery: { retry: 20, backoffPolicy: "linear", backoffDelay: "PT0.5S", timeout: "PT2S" } }));
    await api.waitReady(V1, "Trigger", ns, "t");

    const N = 800;
    const ids = Array.from({ length: N }, (_, i) => `rk-${i}`);
    const from = new Date(Date.now() - 1000).toISOString();
    await publish(url, platform.token, ids);
    const to = new Date(Date.now() + 1000).toISOString();
    await sink.waitFor(N, 60_000);
    // Archive objects are written about a second after acceptance (and a replay flushes what is left first).
    await sleep(2500);

    const created = await api.call("POST", `${REPLAYS}/${ns}/replays`, replay(ns, "after-kill", { broker: "default", trigger: "t", from, to }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const replayedIds = () => new Set(sink!.received.filter(isReplayOf("after-kill")).map((r) => r.headers["ce-id"]));
    await expect.poll(() => acked, { timeout: 30_000, interval: 2 }).toBeGreaterThan(ACKED);
    // Held answers keep the backlog up, so recording stalls part-way; progress is reported each second.
    await sleep(1500);
    const before = (await api.call("GET", `${REPLAYS}/${ns}/replays/after-kill`)).body.status;
    expect(before.conditions.find((c: any) => c.type === "Succeeded").status).toBe("Unknown");
    expect(before.replayed).toBeLessThan(N); // the cursor is mid-window when the runtime dies
    killed = true;
    await platform.kill9();
    release();
    const atKill = replayedIds().size;
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(N); // the kill landed mid-replay

    platform = await startPlatform({ persistDir, extraArgs: args });
    api = new Api(platform);
    let missing: string[] = [];
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      const got = replayedIds();
      missing = ids.filter((id) => !got.has(id));
      if (!missing.length) break;
      await sleep(250);
    }
    expect(missing, `replayed ${replayedIds().size} of ${N} (${atKill} before the kill); missing`).toEqual([]);
    const done = await finished(api, ns, "after-kill");
    expect(done.status.conditions.find((c: any) => c.type === "Succeeded")).toMatchObject({ status: "True", reason: "Completed" });
    // The cursor commits with the events it recorded: each event of the window is counted once.
    expect(done.status.replayed).toBe(N);
    expect(done.status.progress).toMatchObject({ partitions: 1, partitionsDone: 1 });
    const replayed = sink.received.filter(isReplayOf("after-kill"));
    // Every replayed delivery is of the window; arrivals beyond one per event are duplicates from the kill.
    expect(new Set(replayed.map((r) => r.headers["ce-id"]))).toEqual(new Set(ids));
    console.info(`kill -9 mid-replay: ${N} events, ${before.replayed} recorded and ${atKill} arrived before the kill, ${replayed.length - N} duplicate(s), ${Date.now() - started} ms`);
  });
});

const p = inject("platform");
const shared = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const sink = sinkPool(afterEach);

describe("Replay across partitions", () => {
  it("replays the window of each of 4 partitions; progress counts them", { timeout: 90_000 }, async () => {
    const ns = uniqueNs("rpart");
    const url = (await shared.apply(broker(ns, "default", {}, { ...ARCHIVED, "eddy.dev/partitions": "4" }))).status.address.url;
    const s = await sink();
    await shared.apply(trigger(ns, "t", "default", s.url));
    await shared.waitReady(V1, "Trigger", ns, "t");
    const ids = Array.from({ length: 200 }, (_, i) => `rp-${i}`);
    const from = new Date(Date.now() - 1000).toISOString();
    // Half with a partitionkey, half spread evenly.
    await publish(url, p.token, ids, 20, (_id, i): Record<string, string> => (i % 2 ? { partitionkey: `key-${i % 20}` } : {}));
    const to = new Date(Date.now() + 1000).toISOString();
    await s.waitFor(ids.length, 30_000);

    // By default the replay goes to every Trigger whose filter matches: here the one.
    const created = await shared.call("POST", `${REPLAYS}/${ns}/replays`, replay(ns, "parts", { broker: "default", from, to }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const done = await finished(shared, ns, "parts");
    expect(done.status.conditions[0]).toMatchObject({ type: "Succeeded", status: "True" });
    expect(done.status.replayed).toBe(ids.length);
    expect(done.status.progress).toMatchObject({ partitions: 4, partitionsDone: 4 });
    await expect.poll(() => new Set(s.received.filter(isReplayOf("parts")).map((r) => r.headers["ce-id"])).size, { timeout: 30_000 }).toBe(ids.length);
    expect(new Set(s.received.filter(isReplayOf("parts")).map((r) => r.headers["ce-id"]))).toEqual(new Set(ids));
  });
});

/** Runs `eddy` to its end. */
function eddy(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "cli", "eddy.mjs"), ...args, "--server", p.url, "--token", p.token], { env: { ...process.env, EDDY_TOKEN: "", EDDY_SERVER: "", EDDY_NAMESPACE: "" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("eddy replay", () => {
  it("replays exactly a window to one Trigger and waits for it: exit 0", { timeout: 90_000 }, async () => {
    const ns = uniqueNs("rcli");
    const url = (await shared.apply(broker(ns, "default", {}, ARCHIVED))).status.address.url;
    const s = await sink();
    const other = await sink();
    await shared.apply(trigger(ns, "audit", "default", s.url));
    await shared.apply(trigger(ns, "other", "default", other.url));
    await shared.waitReady(V1, "Trigger", ns, "audit");
    await shared.waitReady(V1, "Trigger", ns, "other");
    await publish(url, p.token, ["before-1", "before-2"]);
    await sleep(50);
    const from = new Date().toISOString();
    const window = Array.from({ length: 60 }, (_, i) => `w-${i}`);
    await publish(url, p.token, window, 10);
    const to = new Date().toISOString();
    await sleep(50);
    await publish(url, p.token, ["after-1"]);
    await s.waitFor(63, 30_000);
    await other.waitFor(63, 30_000);

    const r = await eddy(["replay", "--of", "broker:default", "-n", ns, "--from", from, "--to", to, "--trigger", "audit", "--name", "fix-audit", "--wait"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`replay fix-audit created: broker:default from ${from} to ${to}, Trigger audit`);
    expect(r.stdout).toMatch(/^replay fix-audit: succeeded; replayed 60, 1\/1 partition\(s\) done/);
    await expect.poll(() => s.received.filter(isReplayOf("fix-audit")).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(60);
    expect(new Set(s.received.filter(isReplayOf("fix-audit")).map((x) => x.headers["ce-id"]))).toEqual(new Set(window));
    expect(s.received.filter((x) => !live(x)).every(isReplayOf("fix-audit"))).toBe(true);

    const status = await eddy(["replay", "status", "fix-audit", "-n", ns, "-o", "json"]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).status).toMatchObject({ replayed: 60, progress: { partitions: 1, partitionsDone: 1 } });
    const list = await eddy(["replay", "list", "-n", ns]);
    expect(list.stdout).toMatch(/^NAME\s+TARGET\s+FROM\s+TO\s+SUCCEEDED\s+REASON\s+REPLAYED\n/);
    expect(list.stdout).toMatch(/fix-audit\s+broker:default\s+\S+\s+\S+\s+True\s+Completed\s+60/);
    // Only the Trigger it names: the other one got its live deliveries and nothing more.
    await sleep(500);
    expect(other.received.length).toBe(63);
    expect(other.received.every(live)).toBe(true);
    const del = await eddy(["replay", "delete", "fix-audit", "-n", ns]);
    expect(del).toMatchObject({ code: 0, stdout: "replay fix-audit deleted\n" });
  });

  it("exits 1 with the reason when the Broker does not archive, 2 for a wrong time", { timeout: 60_000 }, async () => {
    const ns = uniqueNs("rcli");
    await shared.apply(broker(ns, "plain"));
    const r = await eddy(["replay", "--of", "broker:plain", "-n", ns, "--from", "-15m", "--to", "now", "--wait"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^replay plain-replay-\S+ created: broker:plain from \S+Z to \S+Z$/m);
    expect(r.stderr).toMatch(/eddy replay: replay plain-replay-\S+: failed \(ArchiveOff\): Broker "plain" does not archive its events: set the annotation eddy.dev\/archive-retention/);
    const bad = await eddy(["replay", "--of", "broker:plain", "-n", ns, "--from", "yesterday"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--from "yesterday" is not a time');
  });
});
