import { ApiError } from "../core/errors.js";

/** Requests whose body readBody read to the end: nothing is left for discardUnreadBody. */
const readToEnd = new WeakSet<Request>();

/**
 * Reads a request body up to `max` bytes, answering 413 as soon as it is known to be larger
 * (from Content-Length, or while streaming when the sender gave none).
 *
 * @example
 * const bytes = await readBody(c.req.raw, 262144);
 */
export async function readBody(req: Request, max: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > max) throw bodyTooLarge(max);
  if (Number.isFinite(declared)) {
    // The length is known and within the limit (the runtime holds a body to its Content-Length):
    // one read of the whole body costs less than a reader and its chunks (and no body reads as empty).
    const bytes = new Uint8Array(await req.arrayBuffer());
    readToEnd.add(req);
    return bytes;
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      // Not cancel(): the rest of the body must still be read off the connection (see
      // discardUnreadBody), and a cancelled upload stalls the next request behind wrangler's proxy.
      if (total > max) throw bodyTooLarge(max);
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  readToEnd.add(req);
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

// A module function, not a closure made per request (the bundle names every closure it makes).
function bodyTooLarge(max: number): ApiError {
  return new ApiError(413, `request body is larger than the ${max}-byte limit (MAX_EVENT_BYTES in wrangler.toml); send smaller events or raise the limit`);
}

/**
 * Bytes of an unread request body Eddy still reads and throws away after answering. Beyond this
 * the body is cancelled and the runtime closes (workerd) or stalls (wrangler dev) the connection.
 */
export const DISCARD_LIMIT = 8 * 1024 * 1024;

/**
 * Reads and throws away whatever is left of a request body once its answer is ready, so that on a
 * keep-alive connection the next request starts where the server expects it. An early answer
 * (401, 404, 405, 413...) otherwise leaves the body on the connection: workerd then drops the
 * connection when more than 64 KiB are left, and behind `wrangler dev` a cancelled body stalls the
 * next request on that connection for about five seconds (docs/known-issues.md). Draining, not
 * cancelling, is what keeps the connection usable. Bodies larger than `limit` are cancelled
 * instead: reading megabytes only to refuse them costs more than a reconnect.
 *
 * @example
 * app.use("*", async (c, next) => { await next(); await discardUnreadBody(c.req.raw); });
 */
export async function discardUnreadBody(req: Request, limit = DISCARD_LIMIT): Promise<void> {
  if (readToEnd.has(req) || !req.body) return;
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = req.body.getReader();
  } catch {
    return; // locked by a reader still in use: its owner decides what happens to the rest
  }
  try {
    const declared = Number(req.headers.get("content-length") ?? "NaN");
    if (Number.isFinite(declared) && declared > limit) {
      await reader.cancel();
      return;
    }
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // The client went away mid-body: nothing is left to keep in step.
  } finally {
    reader.releaseLock();
  }
}

