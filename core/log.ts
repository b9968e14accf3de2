import { redactUrlsIn } from "./redact.js";

/**
 * Eddy's one log format: a JSON object per line with `level`, `msg` and flat fields, so
 * `wrangler tail`, Workers Logs and `npm start` output can all be filtered the same way. Every URL
 * in a string field is redacted here (core/redact.ts): a subscriber's URL may carry its secret, and
 * a log line is read by people who must not learn it.
 *
 * @example
 * log.warn("event dropped", { reason: "no-matching-trigger", broker: "demo/default", id: "e1" });
 */
type Level = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

function emit(level: Level, msg: string, fields: LogFields = {}): void {
  const safe: LogFields = {};
  for (const [k, v] of Object.entries(fields)) safe[k] = typeof v === "string" ? redactUrlsIn(v) : v;
  const line = JSON.stringify({ level, msg: redactUrlsIn(msg), ...safe });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

export const log = {
  debug: (msg: string, f?: LogFields) => emit("debug", msg, f),
  info: (msg: string, f?: LogFields) => emit("info", msg, f),
  warn: (msg: string, f?: LogFields) => emit("warn", msg, f),
  error: (msg: string, f?: LogFields) => emit("error", msg, f),
};
