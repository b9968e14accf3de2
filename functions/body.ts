import { ApiError } from "../core/errors.js";

/**
 * Reads a request body up to `max` bytes, answering 413 as soon as it is known to be larger
 * (from Content-Length, or while streaming when the sender gave none).
 *
 * @example
 * const bytes = await readBody(c.req.raw, 262144);
 */
export async function readBody(req: Request, max: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new ApiError(413, `request body is larger than the ${max}-byte limit (MAX_EVENT_BYTES in wrangler.toml); send smaller events or raise the limit`);
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > max) throw tooLarge();
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/** Reads at most `max` bytes of a response body, reporting whether more was left unread. */
export async function readAtMost(res: Response, max: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (!res.body) return { bytes: new Uint8Array(0), truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > max) {
      chunks.push(value.subarray(0, max - total));
      total = max;
      truncated = true;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    total += value.byteLength;
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return { bytes: out, truncated };
}

/** The ingress size limit from `MAX_EVENT_BYTES` (default 256 KiB). */
export function maxEventBytes(env: { MAX_EVENT_BYTES?: string }): number {
  const n = Number(env.MAX_EVENT_BYTES ?? "");
  return Number.isInteger(n) && n > 0 ? n : 256 * 1024;
}
