import type { CloudEvent } from "../core/cloudevents/event.js";
import type { DeliveryOutcome } from "../core/delivery/messages.js";
import { locate, requestAddress } from "../core/addressables.js";
import type { RouteSender, Target } from "../core/resources/plan.js";
import type { Env } from "./env.js";
import { ownAttempt } from "./delivery-signer.js";
import { requestReply } from "./request-reply/call.js";

const enc = new TextEncoder();

/**
 * One call to a Destination outside the ledger, answered now (an EventTransform's sink): an RPC to
 * the object behind an address of this deployment, a RequestReply's request, or a signed HTTP
 * POST, with `Prefer: reply` and the answer read as a subscriber's. Never retried here: the caller
 * is itself a delivery with its own retries.
 */
export async function callTarget(env: Env, target: Target, event: CloudEvent, opts: { namespace: string; timeoutMs: number; sender?: RouteSender }): Promise<DeliveryOutcome> {
  const path = new URL(target.url).pathname;
  const object = target.object ?? (target.internal ? locate(path) : undefined);
  if (target.internal && !object) {
    const rr = requestAddress(path);
    if (!rr) return { id: 0, gen: 0, ok: false, status: 502, error: "unreachable", errorData: enc.encode(`${target.url} is an address of this deployment that cannot be called from here; point at the addressable itself`) };
    const a = await requestReply(env, rr.ns, rr.name, event, opts.sender ? { subject: opts.sender.subject } : undefined);
    if (a.status >= 200 && a.status < 300) return { id: 0, gen: 0, ok: true, status: a.status, ...(a.event ? { reply: a.event } : {}) };
    return { id: 0, gen: 0, ok: false, status: a.status, error: `HTTP ${a.status}`, errorData: enc.encode(a.message ?? "") };
  }
  const auth = {
    ...(opts.sender ? { subject: opts.sender.subject, issuer: opts.sender.issuer } : {}),
    ...(target.audience ? { audience: target.audience } : {}),
  };
  return ownAttempt(env, {
    id: 0, gen: 0, hop: "subscriber", url: target.url, internal: target.internal ?? false, format: "binary", timeoutMs: opts.timeoutMs,
    namespace: opts.namespace, ...(Object.keys(auth).length ? { auth } : {}), ...(object ? { object } : {}),
  }, event);
}
