/** The ingress size limit from `MAX_EVENT_BYTES` (default 256 KiB); subscribers' replies are held to it too. */
export function maxEventBytes(env: { MAX_EVENT_BYTES?: string }): number {
  const n = Number(env.MAX_EVENT_BYTES ?? "");
  return Number.isInteger(n) && n > 0 ? n : 256 * 1024;
}
