// Shared machinery of the HTTP fuzz suites: run count and seed, a fixture namespace with one of every
// addressable, the checks every answer must pass, and the liveness probe run after each batch.
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import fc from "fast-check";
import { expect } from "vitest";
import worker from "../../../functions/index.js";
import { dispatcherNamespace, type Env } from "../../../functions/env.js";
import { apply, brokerObj, ORIGIN, SINK, sinkLog, triggerObj, uid } from "../helpers.js";

/** Runs per property: `FUZZ_RUNS=2000 npx vitest run --project workers test/workers/fuzz-*.test.ts`. */
export const RUNS = Number((env as unknown as { FUZZ_RUNS?: string }).FUZZ_RUNS) || 100;
/** Fixed, so a failure reproduces; each batch of a property uses SEED + its index. */
export const SEED = 0x8ed1;
/** Per-test time limit, growing with RUNS so a long run is not cut short by the default 30 s. */
export const TIMEOUT = 30_000 + RUNS * 300;
/** Runs between two liveness probes. */
const BATCH = 50;
export const MAX_EVENT_BYTES = 262144;
export const AUTH = { Authorization: "Bearer test-token" };

export interface Fixture {
  ns: string;
  /** Sink key of the Trigger that only liveness probes match. */
  liveKey: string;
  /** Ingress paths of the fixture's addressables, and the Durable Object behind each. */
  targets: { path: string; binding: "BROKER" | "CHANNEL"; name: string }[];
}

/** A namespace with a Broker (Triggers on liveness events and on data), channels, a Sequence and a Parallel. */
export async function fixture(): Promise<Fixture> {
  const ns = uid("fz");
  const liveKey = uid("live");
  const sink = `${SINK}/ok/${uid("fuzz")}`;
  const M = "messaging.knative.dev/v1";
  const F = "flows.knative.dev/v1";
  await apply(brokerObj(ns, "default"), "brokers");
  await apply(triggerObj(ns, "live", "default", `${SINK}/ok/${liveKey}`, { filter: { attributes: { type: "fuzz.liveness" } } }), "triggers");
  // Data filters make the Broker parse whatever JSON data the fuzzer gets accepted.
  await apply(triggerObj(ns, "data", "default", sink, { filters: [{ cesql: "data.a = 1 OR data.b.c LIKE '%x%'" }] }), "triggers");
  await apply({ apiVersion: M, kind: "InMemoryChannel", metadata: { name: "imc", namespace: ns } }, "inmemorychannels");
  await apply({ apiVersion: M, kind: "Channel", metadata: { name: "ch", namespace: ns } }, "channels");
  await apply({ apiVersion: M, kind: "Subscription", metadata: { name: "s", namespace: ns }, spec: { channel: { apiVersion: M, kind: "Channel", name: "ch" }, subscriber: { uri: sink } } }, "subscriptions");
  await apply({ apiVersion: F, kind: "Sequence", metadata: { name: "seq", namespace: ns }, spec: { steps: [{ uri: sink }] } }, "sequences");
  await apply({ apiVersion: F, kind: "Parallel", metadata: { name: "par", namespace: ns }, spec: { branches: [{ subscriber: { uri: sink } }] } }, "parallels");
  return {
    ns,
    liveKey,
    targets: [
      { path: `/brokers/${ns}/default`, binding: "BROKER", name: `${ns}/default` },
      { path: `/inmemorychannels/${ns}/imc`, binding: "CHANNEL", name: `InMemoryChannel/${ns}/imc` },
      { path: `/channels/${ns}/ch`, binding: "CHANNEL", name: `Channel/${ns}/ch` },
      { path: `/sequences/${ns}/seq`, binding: "CHANNEL", name: `Sequence/${ns}/seq/0` },
      { path: `/parallels/${ns}/par`, binding: "CHANNEL", name: `Parallel/${ns}/par` },
    ],
  };
}

/** Events the Durable Object `name` has accepted so far (0 before its first). */
export async function acceptedBy(binding: "BROKER" | "CHANNEL" | "SOURCE", name: string): Promise<number> {
  const ns = dispatcherNamespace(env as unknown as Env, binding);
  const s = await ns.get(ns.idFromName(name)).stats();
  return s?.counters.accepted ?? 0;
}

/** Builds the request, or undefined when Fetch itself refuses it (an invalid header, say): nothing reaches Eddy. */
export function request(path: string, init: RequestInit): Request | undefined {
  try {
    return new Request(`${ORIGIN}${path}`, init);
  } catch {
    return undefined;
  }
}

export interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

/**
 * Hands the request to the Worker's fetch handler; a rejected promise here would mean the runtime
 * failed, so it is not caught. Called directly rather than through SELF.fetch, whose cost grows with
 * every call in vitest-pool-workers 0.15 (5 ms per request at first, 25 ms after 200), which would
 * make the run time quadratic in FUZZ_RUNS; the liveness probe still goes through SELF.
 */
export async function send(req: Request): Promise<Answer> {
  const ctx = createExecutionContext();
  const res = await worker.fetch!(req as Request<unknown, IncomingRequestCfProperties>, env as unknown as Env, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, text, headers: res.headers };
}

const VAGUE = /^(error|bad request|invalid|invalid request|internal error|not found|refused|forbidden|unauthorized)\.?$/i;

/**
 * Every answer: no 5xx. Every 4xx: a message that names the problem — a sentence, not a code word
 * or a bare status, and no `undefined` or `[object Object]` leaking from a template. The API
 * answers with a Kubernetes Status carrying the same code.
 */
export function expectExplained(what: string, method: string, a: Answer, api: boolean): void {
  expect(a.status, `${what}: ${a.text.slice(0, 300)}`).toBeLessThan(500);
  if (a.status < 400 || method === "HEAD") return; // a HEAD answer carries no body
  let msg = a.text;
  if (api) {
    const status = JSON.parse(a.text) as { kind: string; code: number; message: string };
    expect(status.kind, what).toBe("Status");
    expect(status.code, what).toBe(a.status);
    msg = status.message;
  }
  msg = msg.trim();
  expect(msg.length, `${what}: ${msg}`).toBeGreaterThanOrEqual(20);
  expect(msg, what).toMatch(/\s/);
  expect(msg, what).not.toMatch(VAGUE);
  expect(msg, what).not.toMatch(/undefined|\[object Object\]|NaN/);
  if (a.status === 405) expect(a.headers.get("allow"), `${what}: 405 without Allow`).toBeTruthy();
}

/**
 * Runs `property` RUNS times in batches of BATCH, each batch with its own fixed seed, and `between`
 * after every batch (the liveness probe).
 */
export async function fuzz<T>(arb: fc.Arbitrary<T>, property: (t: T) => Promise<void>, between: () => Promise<void>): Promise<number> {
  let ran = 0;
  for (let b = 0; ran < RUNS; b++) {
    const numRuns = Math.min(BATCH, RUNS - ran);
    // No shrinking: each replay costs real requests, and the seed and path already reproduce a failure.
    await fc.assert(fc.asyncProperty(arb, property), { seed: SEED + b, numRuns, endOnFailure: true });
    ran += numRuns;
    await between();
  }
  return ran;
}

let probes = 0;

/** A valid event sent to the fixture Broker still reaches the Trigger's subscriber. */
export async function stillDelivers(fx: Fixture): Promise<void> {
  const id = `live-${++probes}-${uid()}`;
  const r = await SELF.fetch(`${ORIGIN}/brokers/${fx.ns}/default`, {
    method: "POST",
    // The admin token is a valid sender wherever ingress authentication (AUTHENTICATION_OIDC) is on.
    headers: { ...AUTH, "ce-specversion": "1.0", "ce-id": id, "ce-source": "/fuzz", "ce-type": "fuzz.liveness", "Content-Type": "application/json" },
    body: '{"alive":true}',
  });
  expect(r.status, await r.text()).toBe(202);
  const until = Date.now() + 15_000;
  for (;;) {
    if ((await sinkLog(fx.liveKey)).some((rec) => rec.headers["ce-id"] === id)) return;
    if (Date.now() > until) throw new Error(`liveness event ${id} was accepted but never delivered`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}
