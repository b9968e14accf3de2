import { Cron } from "croner";
import { fromBase64, toBase64 } from "../base64.js";
import { type AttrValue, type CloudEvent, isJsonMediaType } from "../cloudevents/event.js";
import type { FieldError } from "../errors.js";
import { jsonTooDeepAt, MAX_JSON_DEPTH } from "../nesting.js";
import { isObject } from "../resources/validate.js";
import { extensionsOf } from "./overrides.js";

export const PING_TYPE = "dev.knative.sources.ping";
export const DEFAULT_SCHEDULE = "* * * * *";
const DESCRIPTORS = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);

/** The `source` of every event of a PingSource, as Knative sets it. */
export function pingSourceUri(ns: string, name: string): string {
  return `/apis/v1/namespaces/${ns}/pingsources/${name}`;
}

function normalise(schedule: string): string {
  const s = schedule.trim();
  if (s === "@annually") return "@yearly";
  if (s === "@midnight") return "@daily";
  return s;
}

/**
 * A PingSource schedule: standard cron (five fields), an optional leading seconds field (six), or a
 * descriptor such as `@hourly`; `@every` is refused as in Knative. Go cron's `0/1` steps are
 * accepted. `minuteAligned` schedules fire on minute boundaries (the per-minute Cron Trigger
 * drives them); the others need a Durable Object alarm.
 *
 * @example
 * const s = compileSchedule("10 0/1 * * * ?", "Europe/Amsterdam");
 * s.next(new Date()); // the next :10 second of a minute
 */
export function compileSchedule(schedule: string, timezone?: string): { next(after: Date): Date | null; minuteAligned: boolean } {
  const s = normalise(schedule);
  if (s.startsWith("@every")) throw new Error("@every is not supported (as in Knative); write the interval as a cron expression");
  if (s.startsWith("@") && !DESCRIPTORS.has(schedule.trim())) throw new Error(`unknown descriptor ${s}; use @yearly, @monthly, @weekly, @daily or @hourly`);
  const fields = s.startsWith("@") ? [] : s.split(/\s+/);
  if (!s.startsWith("@") && fields.length !== 5 && fields.length !== 6) {
    throw new Error(`"${schedule}" has ${fields.length} fields; use five (minute hour day month weekday) or six (with seconds first)`);
  }
  const cron = new Cron(s, { paused: true, sloppyRanges: true, ...(timezone ? { timezone } : {}) });
  return {
    next: (after) => cron.nextRun(after),
    minuteAligned: fields.length !== 6 || fields[0] === "0",
  };
}

export function isTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function isJsonType(ct: unknown): boolean {
  return typeof ct === "string" && ct.split(";")[0]!.trim().toLowerCase() === "application/json";
}

/** Validates a PingSource's own fields as Knative's webhook does (plus the cron syntax); sink and ceOverrides are checked with every source. */
export function validatePingSpec(spec: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  const tz = spec.timezone;
  if (tz !== undefined && (typeof tz !== "string" || !isTimezone(tz))) {
    errs.push({ field: "spec.timezone", message: `${JSON.stringify(tz)} is not an IANA time zone such as Europe/Amsterdam` });
  }
  if (typeof spec.schedule !== "string") errs.push({ field: "spec.schedule", message: "must be a cron expression such as \"*/5 * * * *\"" });
  else {
    try {
      compileSchedule(spec.schedule, typeof tz === "string" && isTimezone(tz) ? tz : undefined);
    } catch (e) {
      errs.push({ field: "spec.schedule", message: (e as Error).message });
    }
  }
  if (spec.contentType !== undefined && typeof spec.contentType !== "string") errs.push({ field: "spec.contentType", message: "must be a media type" });
  if (spec.data !== undefined && spec.dataBase64 !== undefined) {
    errs.push({ field: "spec.dataBase64", message: "set data or dataBase64, not both" });
  }
  let bytes: Uint8Array | undefined;
  if (spec.data !== undefined) {
    if (typeof spec.data !== "string") errs.push({ field: "spec.data", message: "must be a string" });
    else bytes = new TextEncoder().encode(spec.data);
  }
  if (spec.dataBase64 !== undefined) {
    if (typeof spec.dataBase64 !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(spec.dataBase64)) errs.push({ field: "spec.dataBase64", message: "must be standard base64" });
    else bytes = fromBase64(spec.dataBase64);
  }
  const dataField = spec.dataBase64 !== undefined ? "spec.dataBase64" : "spec.data";
  // Ticks are stored like ingress events, so their JSON data obeys the same nesting limit.
  const deep = bytes && typeof spec.contentType === "string" && isJsonMediaType(spec.contentType.split(";")[0]!.trim().toLowerCase()) ? jsonTooDeepAt(bytes, MAX_JSON_DEPTH) : -1;
  if (deep >= 0) {
    errs.push({ field: dataField, message: `nests JSON deeper than ${MAX_JSON_DEPTH} levels (level ${MAX_JSON_DEPTH + 1} opens at byte ${deep}): flatten the data` });
  } else if (bytes && isJsonType(spec.contentType)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      parsed = undefined;
    }
    if (!isObject(parsed)) errs.push({ field: dataField, message: "must be a JSON object when contentType is application/json" });
  }
  return errs;
}

/** What a PingSource's Durable Object needs to fire ticks. */
export interface PingConfig {
  schedule: string;
  timezone?: string;
  contentType?: string;
  /** Base64 of the payload bytes. */
  dataBase64?: string;
  source: string;
  extensions: Record<string, string>;
}

export function pingConfig(ns: string, name: string, spec: Record<string, unknown>): PingConfig {
  const data = typeof spec.dataBase64 === "string" ? spec.dataBase64 : typeof spec.data === "string" ? toBase64(new TextEncoder().encode(spec.data)) : undefined;
  return {
    schedule: typeof spec.schedule === "string" ? spec.schedule : DEFAULT_SCHEDULE,
    ...(typeof spec.timezone === "string" ? { timezone: spec.timezone } : {}),
    ...(typeof spec.contentType === "string" ? { contentType: spec.contentType } : {}),
    ...(data !== undefined ? { dataBase64: data } : {}),
    source: pingSourceUri(ns, name),
    extensions: extensionsOf(spec.ceOverrides),
  };
}

/** The event of one tick: `dev.knative.sources.ping`, time = the tick, data = the configured bytes. */
export function pingEvent(cfg: PingConfig, tick: number, id: string): CloudEvent {
  const attrs: Record<string, AttrValue> = { specversion: "1.0", id, source: cfg.source, type: PING_TYPE, time: new Date(tick).toISOString() };
  if (cfg.contentType) attrs.datacontenttype = cfg.contentType;
  for (const [k, v] of Object.entries(cfg.extensions)) attrs[k] = v;
  const ev: CloudEvent = { attrs };
  if (cfg.dataBase64) ev.data = fromBase64(cfg.dataBase64);
  return ev;
}
