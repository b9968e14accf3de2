import type { CloudEvent } from "../core/cloudevents/event.js";
import { attempt, type AttemptOptions } from "../core/delivery/attempt.js";
import type { Deadlines } from "../core/delivery/deadlines.js";
import type { AttemptSpec, DeliveryOutcome, OwnerRef } from "../core/delivery/messages.js";
import { maxEventBytes } from "../core/limits.js";
import { keyRing, type KeyRing } from "../core/identity/keys.js";
import { authSettings } from "../core/identity/settings.js";
import { deliveryToken } from "../core/identity/tokens.js";
import { standardWebhookHeaders } from "../core/identity/webhook-signature.js";
import type { Env } from "../functions/env.js";
import { deliverInternal } from "./objects.js";

/**
 * One attempt a data-plane object makes itself: an RPC to an object of this system, or an HTTP
 * request signed below. `opts` (from `ownAttemptOptions`, made once per object) carries the
 * object's shared deadline timer.
 */
export function ownAttempt(env: Env, spec: AttemptSpec & { object?: OwnerRef }, event: CloudEvent, opts: AttemptOptions = ownAttemptOptions(env)): Promise<DeliveryOutcome> {
  if (spec.internal && spec.object) return deliverInternal(env, spec.object, spec, event);
  return attempt(spec, event, opts);
}

/** What an object's attempts share: the reply limit, the signer, and (given) the deadline timer. */
export function ownAttemptOptions(env: Env, deadlines?: Deadlines): AttemptOptions {
  return { maxReplyBytes: maxEventBytes(env), sign: deliverySigner(env), ...(deadlines ? { deadlines } : {}) };
}

/**
 * Headers that say who sends a delivery, for `attempt`: `Authorization: Bearer <JWT>` when the
 * destination has an audience and authentication is on (the route's identity, cached tokens), and
 * Standard Webhooks headers when the route names a signing secret.
 */
export function deliverySigner(env: Env): (spec: AttemptSpec, event: CloudEvent, body: Uint8Array | null) => Promise<Record<string, string>> {
  return async (spec, event, body) => {
    const auth = spec.auth;
    const out: Record<string, string> = {};
    if (!auth) return out;
    if (auth.audience && auth.subject && auth.issuer && authSettings(env).oidc) {
      out.Authorization = `Bearer ${await deliveryToken(await keyRingOrExplain(env), auth.issuer, auth.subject, auth.audience)}`;
    }
    if (auth.signingSecret) {
      const secret = (env as unknown as Record<string, unknown>)[auth.signingSecret];
      if (typeof secret !== "string" || secret === "") {
        throw new Error(`the signing secret ${auth.signingSecret} is not set: run \`wrangler secret put ${auth.signingSecret}\` (or add it to .dev.vars)`);
      }
      Object.assign(out, await standardWebhookHeaders(secret, auth.signingSecret, String(event.attrs.id), body));
    }
    return out;
  };
}

async function keyRingOrExplain(env: Env): Promise<KeyRing> {
  try {
    return await keyRing(env.EDDY_SIGNING_KEY, env.EDDY_SIGNING_KEY_PREVIOUS);
  } catch (e) {
    throw new Error(`cannot sign a token for the delivery: ${(e as Error).message}`);
  }
}
