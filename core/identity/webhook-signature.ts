import { toBase64 } from "../base64.js";
import { base64ToBytes, concat } from "../webhooks/crypto.js";
import { annotationSecretSource, validateSecretSource } from "../secrets/refs.js";

/** The annotation that makes a Trigger, Subscription or source sign its deliveries, naming a secret. */
export const SIGNING_SECRET_ANNOTATION = "eddy.dev/signing-secret";

/** A secret that cannot sign; the message says what a Standard Webhooks secret looks like. */
export class SigningSecretError extends Error {}

const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string, name: string): Promise<CryptoKey> {
  let k = keys.get(secret);
  if (!k) {
    if (!secret.startsWith("whsec_")) {
      throw new SigningSecretError(`the signing secret ${name} must be a Standard Webhooks secret: "whsec_" followed by base64 of 24 to 64 random bytes, e.g. from \`node -e "console.log('whsec_'+require('crypto').randomBytes(32).toString('base64'))"\``);
    }
    const raw = base64ToBytes(secret.slice("whsec_".length));
    if (!raw || raw.length < 16) throw new SigningSecretError(`the signing secret ${name} is not "whsec_" followed by base64 of at least 16 bytes`);
    k = crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    if (keys.size >= 100) keys.clear();
    keys.set(secret, k);
  }
  return k;
}

/**
 * The Standard Webhooks headers for one delivery: `webhook-id` (the event id, the same on every
 * retry, so receivers can deduplicate), `webhook-timestamp` (seconds) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`). The body is what goes on the wire: in
 * binary mode the event's data, in structured mode the whole event.
 *
 * @example
 * const h = await standardWebhookHeaders(env.ORDERS_SIGNING_SECRET, "ORDERS_SIGNING_SECRET", "evt-1", body);
 */
export async function standardWebhookHeaders(secret: string, name: string, id: string, body: Uint8Array | null, nowMs = Date.now()): Promise<Record<string, string>> {
  const ts = String(Math.floor(nowMs / 1000));
  const key = await hmacKey(secret, name);
  const mac = await crypto.subtle.sign("HMAC", key, concat(`${id}.${ts}.`, body ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>);
  return { "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": `v1,${toBase64(new Uint8Array(mac))}` };
}

/**
 * 422 causes for a malformed `eddy.dev/signing-secret` annotation: `<secret>/<key>` (a secretKeyRef
 * to a Secret of the namespace) or a wrangler secret's name starting with SECRET_.
 */
export function validateSigningSecret(annotations: unknown): { field: string; message: string }[] {
  if (!annotations || typeof annotations !== "object") return [];
  const v = (annotations as Record<string, unknown>)[SIGNING_SECRET_ANNOTATION];
  if (v === undefined) return [];
  const field = `metadata.annotations.${SIGNING_SECRET_ANNOTATION}`;
  if (typeof v !== "string") return [{ field, message: "must be <secret>/<key> (a Secret of this namespace holding a whsec_ secret) or a wrangler secret starting with SECRET_" }];
  return validateSecretSource(annotationSecretSource(v), field).map((e) => ({ field, message: e.message.replace(/^must be a secretKeyRef \{name: <Secret>, key: <key>\}/, "must be <secret>/<key>") }));
}
