import { tableContentType } from "../../core/kube/table.js";
import { WatchView, type WatchOptions } from "../../core/kube/watch.js";
import type { Resource } from "../../core/resources/types.js";
import type { Changes } from "../../durable-objects/changes.js";
import { type C, type Target, unwrap } from "./request.js";
import { presenter } from "./present.js";

/** How long one long poll of the namespace's object waits for a change. */
const POLL_MS = 25_000;
const DEFAULT_TIMEOUT_S = 1800;
const MAX_TIMEOUT_S = 3600;
const encoder = new TextEncoder();

/**
 * `?watch=true`: a stream of WatchEvents, one JSON object per line. Without a resourceVersion (or
 * with "0") it starts with an ADDED event per object, as Kubernetes does. The Worker long-polls the
 * namespace's Durable Object for the changes after the version it has reached; a version older
 * than the object's change log answers 410 before the stream starts, so clients list again.
 * Between changes an empty line goes out every poll (JSON decoders skip it), which is how a
 * disconnected client is noticed. The watch ends after `timeoutSeconds` (default 30 minutes);
 * clients then watch again from the last version they saw.
 */
export async function watchResponse(c: C, t: Target, opts: WatchOptions): Promise<Response> {
  const view = new WatchView(t.crd, opts);
  const lines: string[] = [];
  let rv = opts.resourceVersion ?? "";
  const show = await presenter(c, t, "list");
  const listed = unwrap<{ items: Resource[]; resourceVersion: string }>(await t.stub.list(t.ns, t.path));
  const items = await Promise.all(listed.items.map(show));
  const resourceVersion = listed.resourceVersion;
  const now = Date.now();
  if (rv === "" || rv === "0") {
    for (const o of view.selected(items)) lines.push(view.line("ADDED", o, now)!);
    rv = resourceVersion;
  } else {
    view.seed(items);
    // The first page now, so that a version too old answers 410 rather than a broken stream.
    const first = unwrap<Changes>(await t.stub.changes(t.ns, t.path, rv, 0));
    for (const e of first.events) {
      const line = view.line(e.type, await show(e.object), now);
      if (line) lines.push(line);
    }
    rv = first.resourceVersion;
  }

  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const timeout = Math.min(Math.max(opts.timeoutSeconds ?? DEFAULT_TIMEOUT_S, 1), MAX_TIMEOUT_S);
  const deadline = Date.now() + timeout * 1000;
  const run = async () => {
    if (lines.length) await writer.write(encoder.encode(lines.join("")));
    while (Date.now() < deadline) {
      const batch = unwrap<Changes>(await t.stub.changes(t.ns, t.path, rv, Math.min(POLL_MS, deadline - Date.now())));
      const now = Date.now();
      const out: string[] = [];
      for (const e of batch.events) {
        const line = view.line(e.type, await show(e.object), now);
        if (line) out.push(line);
      }
      await writer.write(encoder.encode(out.length ? out.join("") : "\n"));
      rv = batch.resourceVersion;
    }
  };
  c.executionCtx.waitUntil(run().then(
    () => writer.close(),
    (e: unknown) => writer.abort(e).catch(() => { /* the client went away */ }),
  ).catch(() => { /* closing a stream the client already dropped */ }));
  return new Response(readable, {
    headers: {
      "Content-Type": opts.table ? tableContentType(opts.table.version) : "application/json",
      "Cache-Control": "no-store",
      // Compression (Cloudflare's, and wrangler dev's imitation of it) would hold events back until
      // its buffer fills; `identity` tells both to leave the stream alone.
      "Content-Encoding": "identity",
    },
  });
}
