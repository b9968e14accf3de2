/**
 * Rates from `/stats` polls: the API gives counters since the object was created; the console
 * keeps the last minutes of samples and turns them into events per second for each series.
 */
export interface StatsBody {
  counters: Record<string, number>;
  pending: number;
  recentDrops?: { at?: string; reason?: string; eventId?: string; id?: string; type?: string; route?: string }[];
  partitions?: unknown[];
}

export const SERIES = ["accepted", "delivered", "retried", "deadLettered", "dropped"] as const;
export type Series = (typeof SERIES)[number];

/** The value of one series: `dropped` adds up every `dropped.<reason>` counter. */
export function seriesValue(counters: Record<string, number>, name: Series): number {
  if (name !== "dropped") return Number(counters[name] ?? 0);
  let sum = 0;
  for (const [k, v] of Object.entries(counters)) if (k.startsWith("dropped.")) sum += Number(v) || 0;
  return sum;
}

/** `dropped.<reason>` counters, largest first. */
export function dropsByReason(counters: Record<string, number>): [string, number][] {
  return Object.entries(counters)
    .filter(([k]) => k.startsWith("dropped."))
    .map(([k, v]): [string, number] => [k.slice("dropped.".length), Number(v) || 0])
    .sort((a, b) => b[1] - a[1]);
}

export interface RatePoint {
  t: number;
  perSecond: number;
}

export class RateHistory {
  private samples: { t: number; counters: Record<string, number> }[] = [];

  constructor(readonly windowMs = 5 * 60_000) {}

  add(t: number, counters: Record<string, number>): void {
    this.samples.push({ t, counters });
    while (this.samples.length > 2 && this.samples[0]!.t < t - this.windowMs) this.samples.shift();
  }

  /** Events per second between consecutive samples. A counter that went down (the object was
   * deleted and created again) starts over rather than showing a negative rate. */
  rates(name: Series): RatePoint[] {
    const out: RatePoint[] = [];
    for (let i = 1; i < this.samples.length; i++) {
      const a = this.samples[i - 1]!;
      const b = this.samples[i]!;
      const dt = (b.t - a.t) / 1000;
      if (dt <= 0) continue;
      const va = seriesValue(a.counters, name);
      const vb = seriesValue(b.counters, name);
      const delta = vb >= va ? vb - va : vb;
      out.push({ t: b.t, perSecond: delta / dt });
    }
    return out;
  }

  get size(): number {
    return this.samples.length;
  }
}

/** A round upper bound for the chart's axis: 1, 2, 5, 10, 20, 50... */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}
