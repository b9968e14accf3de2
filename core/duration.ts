import { parse as parseIso } from "tinyduration";

/**
 * Parses an ISO-8601 duration (`PT0.2S`, `PT1M30S`, `P1D`) into milliseconds, the way Knative's
 * DeliverySpec fields are written. Negative durations and surrounding whitespace are refused;
 * years and months count as 365 and 30 days because Knative's period library does the same.
 *
 * @example
 * parseDurationMs("PT0.2S"); // 200
 * parseDurationMs("2s");     // throws: not an ISO-8601 duration
 */
export function parseDurationMs(value: string): number {
  if (typeof value !== "string" || value.trim() !== value) {
    throw new Error(`"${String(value)}" is not an ISO-8601 duration such as PT0.2S or PT1M`);
  }
  let d;
  try {
    d = parseIso(value);
  } catch {
    throw new Error(`"${value}" is not an ISO-8601 duration such as PT0.2S or PT1M`);
  }
  const parts = [d.years, d.months, d.weeks, d.days, d.hours, d.minutes, d.seconds];
  if (d.negative || parts.some((x) => (x ?? 0) < 0)) throw new Error(`"${value}" is negative; durations must be zero or more`);
  const days = (d.years ?? 0) * 365 + (d.months ?? 0) * 30 + (d.weeks ?? 0) * 7 + (d.days ?? 0);
  const seconds = days * 86400 + (d.hours ?? 0) * 3600 + (d.minutes ?? 0) * 60 + (d.seconds ?? 0);
  return Math.round(seconds * 1000);
}
