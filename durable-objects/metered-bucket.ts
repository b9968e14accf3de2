import type { Limiter } from "../core/delivery/limiter.js";
import type { Meter } from "./meter.js";

/**
 * An R2 bucket as a data-plane object uses it (archive batches, kept dead letters): each call holds
 * one of the object's connections of the kind kept for io (a write never waits behind six slow
 * subscribers), and is counted as R2 bills it: put and list are Class A operations, get and head
 * Class B, delete free (developers.cloudflare.com/r2/pricing, read 2026-12-07).
 *
 * @example
 * const bucket = meteredBucket(env.ARCHIVE, meter, connections);
 */
export function meteredBucket(bucket: R2Bucket | undefined, meter: Meter, connections: Limiter): R2Bucket | undefined {
  if (!bucket) return undefined;
  const io = <T>(cls: "a" | "b" | null, fn: () => Promise<T>): Promise<T> => {
    if (cls === "a") meter.r2ClassA++;
    else if (cls === "b") meter.r2ClassB++;
    return connections.io(fn);
  };
  return {
    put: (...a: Parameters<R2Bucket["put"]>) => io("a", () => bucket.put(...a)),
    list: (...a: Parameters<R2Bucket["list"]>) => io("a", () => bucket.list(...a)),
    get: (...a: Parameters<R2Bucket["get"]>) => io("b", () => bucket.get(...a)),
    head: (...a: Parameters<R2Bucket["head"]>) => io("b", () => bucket.head(...a)),
    delete: (...a: Parameters<R2Bucket["delete"]>) => io(null, () => bucket.delete(...a)),
    createMultipartUpload: (...a: Parameters<R2Bucket["createMultipartUpload"]>) => io("a", () => bucket.createMultipartUpload(...a)),
    resumeMultipartUpload: (...a: Parameters<R2Bucket["resumeMultipartUpload"]>) => bucket.resumeMultipartUpload(...a),
  } as R2Bucket;
}
