// Filter evaluation benchmark: evaluations per second for each dialect, and for a 20-Trigger
// Broker pass where every event matches exactly one Trigger, beside a no-filter pass measured the
// same way. Pure TypeScript over core/: `npm run bench` bundles it with esbuild and calls
// filterBench(); it needs nothing but performance.now().
import type { CloudEvent } from "../core/cloudevents/event.js";
import { eventView, type EventView } from "../core/cloudevents/view.js";
import { compileTriggerFilter, type CompiledFilter, type TriggerFilterSpec } from "../core/filters/index.js";

export interface FilterBenchRow {
  name: string;
  /** Evaluations per second (for the Broker rows: events per second, each against 20 filters). */
  opsPerSec: number;
  /** opsPerSec / the no-filter pass: below 1, and 1 / ratio is the cost in no-filter passes. */
  ratioToNoFilter: number;
}

/** Twenty event kinds; none is a prefix or suffix of another in the type strings below. */
const WORDS = [
  "created", "updated", "deleted", "shipped", "paid", "refunded", "cancelled", "returned", "packed", "billed",
  "viewed", "rated", "archived", "restored", "flagged", "merged", "split", "priced", "tagged", "noted",
] as const;
const typeOf = (w: string) => `com.example.order.${w}.v1`;
const EVENTS = 1000;

function makeEvents(): CloudEvent[] {
  const enc = new TextEncoder();
  return Array.from({ length: EVENTS }, (_, i) => {
    const w = WORDS[i % WORDS.length]!;
    return {
      attrs: {
        specversion: "1.0", id: `e${i}`, source: `https://example.com/orders/${i % 7}`, type: typeOf(w),
        subject: `order-${i}`, datacontenttype: "application/json", tenant: `tenant-${i % 3}`, priority: i % 5,
      },
      data: enc.encode(JSON.stringify({
        kind: w, total: (i * 37) % 500, customer: { id: `c${i % 50}`, tier: i % 4 === 0 ? "gold" : "silver" },
        items: [{ sku: `s${i}`, qty: 1 + (i % 3) }],
      })),
    };
  });
}

/** Trigger k matches exactly the events of WORDS[k], each through a different dialect mix. */
function brokerTrigger(k: number): TriggerFilterSpec {
  const w = WORDS[k]!;
  const t = typeOf(w);
  switch (k % 10) {
    case 0: return { filters: [{ exact: { type: t } }] };
    case 1: return { filter: { attributes: { type: t } } };
    case 2: return { filters: [{ prefix: { type: `com.example.order.${w}.` } }] };
    case 3: return { filters: [{ suffix: { type: `.${w}.v1` } }] };
    case 4: return { filters: [{ cesql: `type = '${t}'` }] };
    case 5: return { filters: [{ cesql: `EXISTS subject AND type IN ('${t}', 'org.example.none')` }] };
    case 6: return { filters: [{ all: [{ prefix: { type: "com.example." } }, { exact: { type: t } }] }] };
    case 7: return { filters: [{ any: [{ exact: { type: "org.example.none" } }, { exact: { type: t } }] }] };
    case 8: return { filters: [{ not: { prefix: { type: "org." } } }, { suffix: { type: `.${w}.v1` } }] };
    default: return { filters: [{ cesql: `type LIKE 'com.example.order.${w}.%'` }] };
  }
}

// Views land here so the engine cannot optimise their construction away in any row.
const ring: EventView[] = new Array(16);

/** Runs `fn` over the events for about `ms` after a short warm-up; returns calls per second. */
function rate(evs: readonly CloudEvent[], ms: number, fn: (v: EventView) => number): number {
  let sink = 0;
  const pass = () => {
    for (let i = 0; i < evs.length; i++) {
      const v = eventView(evs[i]!);
      ring[i & 15] = v;
      sink += fn(v);
    }
  };
  const warm = performance.now();
  while (performance.now() - warm < Math.min(50, ms / 5)) pass();
  let n = 0;
  const start = performance.now();
  let now = start;
  do {
    pass();
    n += evs.length;
    now = performance.now();
  } while (now - start < ms);
  if (sink < 0) throw new Error("unreachable");
  return n / ((now - start) / 1000);
}

function brokerPass(triggers: readonly CompiledFilter[]): (v: EventView) => number {
  return (v) => {
    let matched = 0;
    for (let i = 0; i < triggers.length; i++) if (triggers[i]!.matches(v)) matched++;
    return matched;
  };
}

/**
 * Measures filter evaluations per second, each row for about `durationMs` (default 300 ms). A
 * fresh event view per event, so rows that read data pay for parsing it.
 *
 * @example
 * for (const r of await filterBench({ durationMs: 100 })) console.log(r.name, Math.round(r.opsPerSec));
 */
export async function filterBench(opts: { durationMs?: number } = {}): Promise<FilterBenchRow[]> {
  const ms = opts.durationMs ?? 300;
  const evs = makeEvents();
  const single: [string, TriggerFilterSpec][] = [
    ["no filter (baseline)", {}],
    ["legacy attributes", { filter: { attributes: { type: typeOf("paid"), tenant: "tenant-1" } } }],
    ["exact", { filters: [{ exact: { type: typeOf("paid") } }] }],
    ["prefix", { filters: [{ prefix: { type: "com.example.order.p" } }] }],
    ["suffix", { filters: [{ suffix: { source: "/3" } }] }],
    ["all (exact + prefix)", { filters: [{ all: [{ exact: { tenant: "tenant-1" } }, { prefix: { type: "com.example.order.p" } }] }] }],
    ["any (3 exact)", { filters: [{ any: [{ exact: { type: "x" } }, { exact: { type: "y" } }, { exact: { type: typeOf("noted") } }] }] }],
    ["not (exact)", { filters: [{ not: { exact: { type: typeOf("paid") } } }] }],
    ["cesql on attributes", { filters: [{ cesql: "type LIKE 'com.example.order.%' AND tenant IN ('tenant-1', 'tenant-2')" }] }],
    ["cesql on JSON data", { filters: [{ cesql: "data.customer.tier = 'gold' AND data.total > 100" }] }],
  ];
  const rows: { name: string; opsPerSec: number }[] = [];
  for (const [name, spec] of single) {
    const f = compileTriggerFilter(spec);
    rows.push({ name, opsPerSec: rate(evs, ms, (v) => (f.matches(v) ? 1 : 0)) });
  }

  const brokers: [string, CompiledFilter[]][] = [
    ["20-Trigger Broker pass (mixed attribute dialects, 1 match per event), events/s", WORDS.map((_, k) => compileTriggerFilter(brokerTrigger(k)))],
    ["20-Trigger Broker pass (cesql on data, 1 match per event), events/s",
      WORDS.map((w) => compileTriggerFilter({ filters: [{ cesql: `data.kind = '${w}' AND data.total >= 0` }] }))],
  ];
  for (const [name, triggers] of brokers) {
    const pass = brokerPass(triggers);
    // The row is only meaningful if the premise holds: exactly one Trigger per event.
    for (const ev of evs) {
      const m = pass(eventView(ev));
      if (m !== 1) throw new Error(`${name}: event ${ev.attrs.id} (${ev.attrs.type}) matched ${m} Triggers, not 1`);
    }
    rows.push({ name, opsPerSec: rate(evs, ms, pass) });
  }
  const baseline = rows[0]!.opsPerSec;
  return rows.map((r) => ({ ...r, ratioToNoFilter: r.opsPerSec / baseline }));
}
