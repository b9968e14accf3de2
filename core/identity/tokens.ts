import { compactVerify, decodeProtectedHeader, SignJWT } from "jose";
import { SIGNING_ALGORITHMS, type KeyRing, type SigningKey } from "./keys.js";

/** Lifetime of the tokens Eddy puts on its own deliveries. */
export const DELIVERY_TOKEN_SECONDS = 600;
/** A cached delivery token is replaced once it has less than this left. */
const REFRESH_BEFORE_SECONDS = 120;
/** Clock skew tolerated for `nbf` and `iat` (tokens from Eddy's other isolates and machines). */
const SKEW_SECONDS = 60;

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
}

/** Signs a token with the ring's current key (`kid` in the header, so a rotation can tell keys apart). */
export async function signToken(ring: KeyRing, claims: TokenClaims): Promise<string> {
  const key = ring.current;
  return new SignJWT({ aud: claims.aud })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
    .setIssuer(claims.iss)
    .setSubject(claims.sub)
    .setIssuedAt(claims.iat)
    .setNotBefore(claims.iat)
    .setExpirationTime(claims.exp)
    .sign(key.privateKey!);
}

const issued = new Map<string, { token: string; exp: number }>();

/**
 * The token for one delivery: `aud` = the destination's audience, `sub` = the sender's identity.
 * Tokens are cached per (key, issuer, subject, audience) and reused until shortly before they
 * expire, so a busy route signs once every few minutes, not once per delivery.
 *
 * @example
 * headers.set("Authorization", `Bearer ${await deliveryToken(ring, issuer, subject, audience)}`);
 */
export async function deliveryToken(ring: KeyRing, iss: string, sub: string, aud: string, nowMs = Date.now()): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  const key = `${ring.current.kid}\n${iss}\n${sub}\n${aud}`;
  const hit = issued.get(key);
  if (hit && hit.exp - now > REFRESH_BEFORE_SECONDS) return hit.token;
  const token = await signToken(ring, { iss, sub, aud, iat: now, exp: now + DELIVERY_TOKEN_SECONDS });
  if (issued.size >= 1000) issued.clear();
  issued.set(key, { token, exp: now + DELIVERY_TOKEN_SECONDS });
  return token;
}

export type Verified = { ok: true; subject: string; expiresAt: number } | { ok: false; reason: string };

interface Checked {
  kid: string;
  claims: Record<string, unknown>;
}

/** Tokens whose signature already checked out, by token text; claims are checked on every use. */
const verified = new Map<string, Checked>();
const VERIFIED_MAX = 2000;

/**
 * Checks a bearer token for one addressable: signed by a key of the ring with ES256 or RS256
 * (`alg: none` and everything else refused), issued by `issuer`, for `audience`, not expired.
 * The signature is checked once per token per isolate; the claims on every request, so the
 * verdict never outlives the token. `reason` says what is wrong and how to get a good token.
 *
 * @example
 * const v = await verifyToken(ring, token, { issuer: "https://eddy.example", audience: "eventing.knative.dev/broker/demo/default" });
 */
export async function verifyToken(ring: KeyRing, token: string, want: { issuer: string; audience: string; nowMs?: number }): Promise<Verified> {
  let checked = verified.get(token);
  if (checked && !ring.byKid.has(checked.kid)) checked = undefined; // its key was rotated out
  if (!checked) {
    const r = await verifySignature(ring, token);
    if ("reason" in r) return { ok: false, reason: r.reason };
    checked = r;
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
    verified.set(token, checked);
  }
  return checkClaims(checked.claims, want.issuer, want.audience, Math.floor((want.nowMs ?? Date.now()) / 1000));
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Whether a bearer credential is shaped like a JWT (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return JWT_SHAPE.test(token);
}

async function verifySignature(ring: KeyRing, token: string): Promise<Checked | { reason: string }> {
  if (!looksLikeJwt(token)) return { reason: "the bearer token is malformed: a JWT has three base64url parts separated by dots" };
  let header: { alg?: unknown; kid?: unknown };
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return { reason: "the bearer token is malformed: its header is not base64url-encoded JSON" };
  }
  if (typeof header.alg !== "string" || !(SIGNING_ALGORITHMS as readonly string[]).includes(header.alg)) {
    return { reason: `the token's algorithm ${JSON.stringify(header.alg ?? null)} is not accepted: Eddy accepts only tokens it signed (${SIGNING_ALGORITHMS.join(" or ")}); request one with POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token` };
  }
  const candidates: SigningKey[] = typeof header.kid === "string"
    ? [ring.byKid.get(header.kid)].filter((k): k is SigningKey => k !== undefined)
    : [ring.current, ...(ring.previous ? [ring.previous] : [])];
  if (candidates.length === 0) {
    return { reason: `the token was signed with key "${String(header.kid)}", which this deployment does not have (rotated out, or another issuer): request a new token` };
  }
  for (const key of candidates) {
    if (key.alg !== header.alg) continue;
    try {
      const { payload } = await compactVerify(token, key.publicKey, { algorithms: [key.alg] });
      const claims = JSON.parse(new TextDecoder().decode(payload)) as unknown;
      if (typeof claims !== "object" || claims === null || Array.isArray(claims)) return { reason: "the token's payload is not a JSON object of claims" };
      return { kid: key.kid, claims: claims as Record<string, unknown> };
    } catch {
      // try the next key
    }
  }
  return { reason: "the token's signature does not verify with this deployment's keys (see /openid/v1/jwks): request a new token" };
}

/** The claim checks, separate from the signature so a cached token is still checked on each use. */
export function checkClaims(c: Record<string, unknown>, issuer: string, audience: string, now: number): Verified {
  if (typeof c.sub !== "string" || c.sub === "") return { ok: false, reason: "the token has no subject (sub)" };
  if (typeof c.exp !== "number") return { ok: false, reason: "the token has no expiry (exp): request one with expirationSeconds" };
  if (now >= c.exp) return { ok: false, reason: `the token expired at ${new Date(c.exp * 1000).toISOString()}: request a new one` };
  if (typeof c.nbf === "number" && c.nbf > now + SKEW_SECONDS) return { ok: false, reason: `the token is not valid before ${new Date(c.nbf * 1000).toISOString()}` };
  if (c.iss !== issuer) return { ok: false, reason: `the token was issued by ${JSON.stringify(c.iss ?? null)}, not by this deployment (${issuer}): request one from ${issuer}` };
  const auds = typeof c.aud === "string" ? [c.aud] : Array.isArray(c.aud) ? c.aud : [];
  if (!auds.includes(audience)) {
    return { ok: false, reason: `the token is for audience ${JSON.stringify(c.aud ?? null)}, not for "${audience}": request one with spec.audiences ["${audience}"] (the addressable's status.address.audience)` };
  }
  return { ok: true, subject: c.sub, expiresAt: c.exp };
}
