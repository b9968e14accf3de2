import { ApiError } from "../core/errors.js";
import { keyRing, KeyConfigError, type KeyRing } from "../core/identity/keys.js";
import { audienceOf } from "../core/identity/names.js";
import type { Sender } from "../core/identity/policy.js";
import { authSettings } from "../core/identity/settings.js";
import { looksLikeJwt, verifyToken } from "../core/identity/tokens.js";
import { KINDS } from "../core/resources/registry.js";
import type { Env } from "./env.js";

/** The key ring of this deployment (imported once per isolate); a missing or bad key is a 500 naming the fix. */
export async function ringOf(env: Env): Promise<KeyRing> {
  try {
    return await keyRing(env.EDDY_SIGNING_KEY, env.EDDY_SIGNING_KEY_PREVIOUS);
  } catch (e) {
    if (e instanceof KeyConfigError) throw new ApiError(500, e.message);
    throw e;
  }
}

/**
 * The issuer (`iss`) of this deployment's tokens: PUBLIC_URL when set, else the origin the request
 * came to — the same base the control plane gives `status.address.url`, so tokens issued through
 * the API are accepted at the addresses it hands out.
 */
export function issuerOf(env: Env, requestUrl: string): string {
  return env.PUBLIC_URL?.replace(/\/+$/, "") || new URL(requestUrl).origin;
}

/** The audience of the addressable of `kind` (Broker, InMemoryChannel...) named `ns/name`. */
export function ingressAudience(kind: string, ns: string, name: string): string {
  const def = KINDS.find((k) => k.kind === kind && k.addressPath);
  return audienceOf(def?.group ?? "", kind, ns, name);
}

const digests = new Map<string, Promise<ArrayBuffer>>();
const enc = new TextEncoder();

/**
 * Tokens found equal to ADMIN_TOKEN (value: the ADMIN_TOKEN they matched), so a client reusing it
 * costs a lookup, not two digests, per request. Only exact matches are kept: a lookup of any other
 * string misses whatever it shares with the token, so it tells nothing the comparison would not.
 */
const admitted = new Map<string, string>();

/** Constant-time comparison with ADMIN_TOKEN, whose digest is computed once per isolate. */
export async function isAdmin(given: string, expected: string | undefined): Promise<boolean> {
  if (!expected) return false;
  if (admitted.get(given) === expected) return true;
  let want = digests.get(expected);
  if (!want) {
    want = crypto.subtle.digest("SHA-256", enc.encode(expected));
    if (digests.size > 4) digests.clear();
    digests.set(expected, want);
  }
  const [a, b] = await Promise.all([crypto.subtle.digest("SHA-256", enc.encode(given)), want]);
  if (!crypto.subtle.timingSafeEqual(a, b)) return false;
  if (admitted.size >= 16) admitted.clear();
  admitted.set(given, expected);
  return true;
}

function unauthorized(message: string, invalid: boolean): ApiError {
  const challenge = invalid ? 'Bearer realm="eddy", error="invalid_token"' : 'Bearer realm="eddy"';
  return new ApiError(401, message, [], {}, { "WWW-Authenticate": challenge });
}

/**
 * Who is sending to an ingress whose audience is `audience`: undefined when AUTHENTICATION_OIDC is
 * disabled; the admin token; or the subject of a valid token for this audience. Anything else is a
 * 401 whose message says what is wrong and how to get a token. Verified tokens are cached, so a
 * producer reusing its token costs one signature check per isolate, not one per request.
 *
 * @example
 * const sender = await authenticate(c.env, c.req.raw, "eventing.knative.dev/broker/demo/default");
 */
export async function authenticate(env: Env, req: Request, audience: string): Promise<Sender | undefined> {
  if (!authSettings(env).oidc) return undefined;
  const header = req.headers.get("authorization");
  const how = `send \`Authorization: Bearer <token>\` with a token for audience "${audience}" (POST /api/v1/namespaces/{namespace}/serviceaccounts/{name}/token, like \`kubectl create token <name> --audience ${audience}\`)`;
  if (!header) throw unauthorized(`missing bearer token: ${how}`, false);
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw unauthorized(`the Authorization header is not "Bearer <token>": ${how}`, true);
  const token = m[1]!;
  if (!looksLikeJwt(token)) {
    if (await isAdmin(token, env.ADMIN_TOKEN)) return { admin: true };
    throw unauthorized(`the bearer token is malformed (not a JWT, nor the ADMIN_TOKEN): ${how}`, true);
  }
  const v = await verifyToken(await ringOf(env), token, { issuer: issuerOf(env, req.url), audience });
  if (v.ok) return { subject: v.subject };
  if (await isAdmin(token, env.ADMIN_TOKEN)) return { admin: true };
  throw unauthorized(v.reason, true);
}

export { deliverySigner } from "../durable-objects/delivery-signer.js";
