/**
 * The most `MAX_EVENT_BYTES` may be: an event is stored in one batch row of its object's SQLite,
 * and Cloudflare allows 2 MB per row (developers.cloudflare.com/durable-objects/platform/limits,
 * read 2026-12-07); the rest of the row is its attributes and what it owes.
 */
export const MAX_STORED_EVENT_BYTES = 1024 * 1024;

/** The ingress size limit from `MAX_EVENT_BYTES` (default 256 KiB, at most 1 MiB); subscribers' replies are held to it too. */
export function maxEventBytes(env: { MAX_EVENT_BYTES?: string }): number {
  const n = Number(env.MAX_EVENT_BYTES ?? "");
  return Number.isInteger(n) && n > 0 ? Math.min(n, MAX_STORED_EVENT_BYTES) : 256 * 1024;
}
