import type { CloudEvent } from "../core/cloudevents/event.js";
import { attempt, type AttemptOptions } from "../core/delivery/attempt.js";
import type { Deadlines } from "../core/delivery/deadlines.js";
import type { AttemptSpec, DeliveryOutcome, OwnerRef } from "../core/delivery/messages.js";
import { maxEventBytes } from "../core/limits.js";
import { keyRing, type KeyRing } from "../core/identity/keys.js";
import { authSettings } from "../core/identity/settings.js";
import { deliveryToken } from "../core/identity/tokens.js";
import { standardWebhookHeaders } from "../core/identity/webhook-signature.js";
import type { Env } from "./env.js";
import { destinationPolicy, refusal } from "../core/delivery/destinations.js";
import { deliverInternal } from "./objects.js";
import { decodeSecretSource, describeSecretSource } from "../core/secrets/refs.js";
import { secretValue } from "./secret-values.js";

/**
 * One attempt a data-plane object makes itself: an RPC to an object of this system, or an HTTP
 * request signed below. `opts` (from `ownAttemptOptions`, made once per object) carries the
 * object's shared deadline timer. A destination DESTINATION_POLICY refuses is not called
 * (reconciling keeps such routes out of plans; this catches plans made before the setting changed).
 */
export function ownAttempt(env: Env, spec: AttemptSpec & { object?: OwnerRef }, event: CloudEvent, opts: AttemptOptions = ownAttemptOptions(env)): Promise<DeliveryOutcome> {
  if (spec.internal && spec.object) return deliverInternal(env, spec.object, spec, event);
  const refused = refusedDestination(env, spec);
  if (refused) return Promise.resolve(refused);
  return attempt(spec, event, opts);
}

/** What an object's attempts share: the reply limit, the signer, and (given) the deadline timer. */
export function ownAttemptOptions(env: Env, deadlines?: Deadlines): AttemptOptions {
  return { maxReplyBytes: maxEventBytes(env), sign: deliverySigner(env), ...(deadlines ? { deadlines } : {}) };
}

/**
 * The failed outcome of an attempt DESTINATION_POLICY does not allow (core/delivery/destinations.ts),
 * saying why, or undefined when the destination may be called. For every HTTP attempt, the queue
 * consumers' included.
 */
export function refusedDestination(env: Env, spec: AttemptSpec): DeliveryOutcome | undefined {
  const refused = spec.internal ? undefined : refusal(spec.url, destinationPolicy(env));
  return refused ? { id: spec.id, gen: spec.gen, ok: false, error: refused, errorData: new TextEncoder().encode(refused) } : undefined;
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
      const src = decodeSecretSource(auth.signingSecret);
      const secret = await secretValue(env, spec.namespace, src);
      if (secret === undefined) {
        throw new Error(`the signing secret (${describeSecretSource(src)}) is not there: create the Secret's key (or, for a binding, \`wrangler secret put\` it)`);
      }
      Object.assign(out, await standardWebhookHeaders(secret, describeSecretSource(src), String(event.attrs.id), body));
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
