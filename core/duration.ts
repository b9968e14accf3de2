import { parse as parseIso } from "tinyduration";
import type { FieldError } from "./errors.js";

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

/** The longest retention an `eddy.dev/*-retention` annotation takes. */
export const MAX_RETENTION_MS = 366 * 24 * 3600_000;

/** A retention annotation's value in ms; undefined when absent or not a duration (validation reports that). */
export function retentionMs(annotations: Record<string, string> | undefined, name: string): number | undefined {
  const raw = annotations?.[name];
  if (raw === undefined) return undefined;
  try {
    return parseDurationMs(raw);
  } catch {
    return undefined;
  }
}

/** 422 causes for a retention annotation: an ISO-8601 duration from PT0S (meaning `zero`) to P366D. */
export function validateRetention(annotations: unknown, name: string, zero: string, example: string): FieldError[] {
  const raw = (annotations && typeof annotations === "object" ? (annotations as Record<string, string>) : {})[name];
  if (raw === undefined) return [];
  try {
    const ms = parseDurationMs(String(raw));
    if (ms >= 0 && ms <= MAX_RETENTION_MS) return [];
  } catch {
    // reported below
  }
  return [{ field: `metadata.annotations.${name}`, message: `must be an ISO-8601 duration from PT0S (${zero}) to P366D, for example ${example}; got "${raw}"` }];
}
