/**
 * Eddy's one log format: a JSON object per line with `level`, `msg` and flat fields, so
 * `wrangler tail`, Workers Logs and `npm start` output can all be filtered the same way.
 *
 * @example
 * log.warn("event dropped", { reason: "no-matching-trigger", broker: "demo/default", id: "e1" });
 */
type Level = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

function emit(level: Level, msg: string, fields: LogFields = {}): void {
  const line = JSON.stringify({ level, msg, ...fields });
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
