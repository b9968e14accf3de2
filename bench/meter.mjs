// The bench's cost meter: what each delivery row spent of what Cloudflare bills, read from the
// objects' own counters (durable-objects/sql.ts Meter: SQL cursors' rows read and written, alarms
// set, requests received, queue messages sent, R2 operations) before and after the row, per event,
// and what a million events cost at the prices below. docs/costs.md is written from these rows.
import { api } from "./resources.mjs";

/**
 * Cloudflare's prices on Workers Paid, read 2026-12-07 from developers.cloudflare.com:
 * durable-objects/platform/pricing (SQLite storage: rows written $1.00/M after 50 M a month, rows
 * read $0.001/M after 25 B; each setAlarm is a row written; requests $0.15/M after 1 M, RPC calls
 * and alarms included), workers/platform/pricing (requests $0.30/M after 10 M), queues/platform/pricing
 * ($0.40/M operations after 1 M; an operation is 64 KB written, read or deleted; three per message),
 * r2/pricing (Class A $4.50/M after 1 M, Class B $0.36/M after 10 M). Free plan, per day: 100,000 rows
 * written, 5 M rows read, 100,000 Durable Object requests, 100,000 Worker requests, 10,000 queue operations.
 */
export const PRICES = {
  read: "2026-12-07",
  perMillion: { rowsWritten: 1.0, rowsRead: 0.001, doRequests: 0.15, workerRequests: 0.3, queueOps: 0.4, r2ClassA: 4.5, r2ClassB: 0.36 },
  freePerDay: { rowsWritten: 100_000, rowsRead: 5_000_000, doRequests: 100_000, workerRequests: 100_000, queueOps: 10_000 },
};

/** Largest consumer batch (wrangler.toml max_batch_size): a consumer invocation per this many messages at least. */
const CONSUMER_BATCH = 100;

const ZERO = { rowsRead: 0, rowsWritten: 0, alarmsSet: 0, requests: 0, queueMessages: 0, queueOps: 0, r2ClassA: 0, r2ClassB: 0 };

/** The meter of a Broker or InMemoryChannel (summed over its partitions) and its counters, from /stats. */
export async function meterOf(eddy, kind, name, ns = "bench") {
  const group = kind === "inmemorychannels" ? "messaging.knative.dev" : "eventing.knative.dev";
  const s = await api(eddy, "GET", `/apis/${group}/v1/namespaces/${ns}/${kind}/${name}/stats`);
  return { meter: { ...ZERO, ...(s.meter ?? {}) }, pending: s.pending, counters: s.counters };
}

/** Waits until the owner holds nothing pending (its batch rows deleted), so their deletes are counted. */
export async function settled(eddy, kind, name, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = await meterOf(eddy, kind, name);
    if (m.pending === 0 || Date.now() > until) return m;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The floor's own meter (bench/durable-relay.js). */
export async function floorMeter(base) {
  return { meter: { ...ZERO, ...(await (await fetch(`${base.url}/meter`)).json()) } };
}

/** What a row spent per event: the difference of two meters over `events` events. */
export function perEvent(before, after, events, { postsPerEvent = 1 } = {}) {
  const d = {};
  for (const k of Object.keys(ZERO)) d[k] = ((after.meter[k] ?? 0) - (before.meter[k] ?? 0)) / events;
  const billed = {
    // Each setAlarm is billed as a row written.
    rowsWritten: d.rowsWritten + d.alarmsSet,
    rowsRead: d.rowsRead,
    doRequests: d.requests,
    // The ingress request, and consumer invocations (at least one per CONSUMER_BATCH messages).
    workerRequests: postsPerEvent + d.queueMessages / CONSUMER_BATCH,
    queueOps: d.queueOps,
    r2ClassA: d.r2ClassA,
    r2ClassB: d.r2ClassB,
  };
  let usd = 0;
  for (const [k, price] of Object.entries(PRICES.perMillion)) usd += (billed[k] ?? 0) * price;
  // The Free plan's daily allowance runs out first on whichever of them an event uses most of.
  const freePerDay = Math.min(...Object.entries(PRICES.freePerDay).map(([k, per]) => (billed[k] > 0 ? per / billed[k] : Infinity)));
  return { ...billed, alarmsSet: d.alarmsSet, queueMessages: d.queueMessages, usdPerMillion: usd, freeEventsPerDay: freePerDay };
}

const f2 = (x) => (x === undefined ? "" : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** Markdown table of cost rows: `rows` are { name, events, cost, floor? }. */
export function renderCosts(rows, date) {
  const lines = [
    `Measured ${date} with \`npm run bench\` (plain Miniflare, the deployed bundle), from the objects' own counters; prices read ${PRICES.read}.`,
    "",
    "| scenario | events | rows written / event (alarms incl.) | floor rows written / event | rows read / event | DO requests / event | Worker requests / event | queue ops / event | R2 A / B per event | $ per million events (Paid) | events/day on Free |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    const c = r.cost;
    lines.push(`| ${r.name} | ${r.events} | ${f2(c.rowsWritten)} (${f2(c.alarmsSet)}) | ${r.floor ? f2(r.floor.rowsWritten) : ""} | ${f2(c.rowsRead)} | ${f2(c.doRequests)} | ${f2(c.workerRequests)} | ${f2(c.queueOps)} | ${f2(c.r2ClassA)} / ${f2(c.r2ClassB)} | $${c.usdPerMillion.toFixed(2)} | ${Math.floor(c.freeEventsPerDay).toLocaleString("en-US")} |`);
  }
  return lines;
}
