// Filter evaluation benchmark: evaluations per second for each dialect and for a 20-Trigger Broker
// pass where each event matches exactly one Trigger, beside a no-filter pass in the same run.
import type { CloudEvent } from "../core/cloudevents/event.js";
import { eventView } from "../core/cloudevents/view.js";
import { compileTriggerFilter, type TriggerFilterSpec } from "../core/filters/index.js";

export interface FilterBenchRow {
  name: string;
  opsPerSec: number;
  ratioToNoFilter: number;
}

const enc = new TextEncoder();

function events(n: number): CloudEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    attrs: {
      specversion: "1.0", id: `e${i}`, source: `https://example.com/orders/${i % 7}`, type: `com.example.order.t${i % 20}`,
      subject: `order-${i}`, datacontenttype: "application/json", tenant: `tenant-${i % 3}`,
    },
    data: enc.encode(JSON.stringify({ total: (i * 37) % 500, customer: { tier: i % 4 === 0 ? "gold" : "silver" }, items: [{ sku: `s${i}` }] })),
  }));
}

/** Runs `fn` over the events for about `ms` and returns evaluations per second. */
function rate(evs: CloudEvent[], ms: number, perEvent: number, fn: (ev: CloudEvent) => number): number {
  let n = 0;
  let sink = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < evs.length; i++) sink += fn(evs[i]!);
    n += evs.length;
    now = performance.now();
  }
  if (sink < 0) throw new Error("unreachable");
  return (n * perEvent) / ((now - start) / 1000);
}

export async function filterBench(opts: { durationMs?: number } = {}): Promise<FilterBenchRow[]> {
  const ms = opts.durationMs ?? 300;
  const evs = events(1000);
  const specs: [string, TriggerFilterSpec][] = [
    ["no filter (baseline)", {}],
    ["legacy attributes", { filter: { attributes: { type: "com.example.order.t3", tenant: "tenant-1" } } }],
    ["exact", { filters: [{ exact: { type: "com.example.order.t3" } }] }],
    ["prefix", { filters: [{ prefix: { type: "com.example.order.t1" } }] }],
    ["suffix", { filters: [{ suffix: { source: "/3" } }] }],
    ["all (exact + prefix)", { filters: [{ all: [{ exact: { tenant: "tenant-1" } }, { prefix: { type: "com.example." } }] }] }],
    ["any (3 exact)", { filters: [{ any: [{ exact: { type: "x" } }, { exact: { type: "y" } }, { exact: { type: "com.example.order.t5" } }] }] }],
    ["not (exact)", { filters: [{ not: { exact: { type: "com.example.order.t3" } } }] }],
    ["cesql on attributes", { filters: [{ cesql: "type LIKE 'com.example.order.%' AND tenant IN ('tenant-1', 'tenant-2')" }] }],
    ["cesql on JSON data", { filters: [{ cesql: "data.customer.tier = 'gold' AND data.total > 100" }] }],
  ];
  const rows: { name: string; opsPerSec: number }[] = [];
  for (const [name, spec] of specs) {
    const f = compileTriggerFilter(spec);
    rows.push({ name, opsPerSec: rate(evs, ms, 1, (ev) => (f.matches(eventView(ev)) ? 1 : 0)) });
  }
  // A Broker with 20 Triggers, one per event type: every event is checked against all 20.
  const triggers = Array.from({ length: 20 }, (_, i) => compileTriggerFilter({ filters: [{ exact: { type: `com.example.order.t${i}` } }] }));
  const broker = rate(evs, ms, 1, (ev) => {
    const v = eventView(ev);
    let matched = 0;
    for (const t of triggers) if (t.matches(v)) matched++;
    return matched;
  });
  rows.push({ name: "20-Trigger Broker pass (exact, 1 match per event), events/s", opsPerSec: broker });
  const triggersSql = Array.from({ length: 20 }, (_, i) => compileTriggerFilter({ filters: [{ cesql: `type = 'com.example.order.t${i}' AND data.total >= 0` }] }));
  const brokerSql = rate(evs, ms, 1, (ev) => {
    const v = eventView(ev);
    let matched = 0;
    for (const t of triggersSql) if (t.matches(v)) matched++;
    return matched;
  });
  rows.push({ name: "20-Trigger Broker pass (cesql with data, 1 match per event), events/s", opsPerSec: brokerSql });
  const baseline = rows[0]!.opsPerSec;
  return rows.map((r) => ({ ...r, ratioToNoFilter: r.opsPerSec / baseline }));
}
