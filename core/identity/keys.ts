import { calculateJwkThumbprint, importJWK, type JWK } from "jose";

/** The algorithms Eddy signs and accepts; anything else (`none`, HS256...) is refused. */
export const SIGNING_ALGORITHMS = ["ES256", "RS256"] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  /** Present on the current key only: the previous one verifies but never signs. */
  privateKey?: CryptoKey;
  publicKey: CryptoKey;
  /** The public half as served in the JWKS. */
  publicJwk: JWK;
}

/** The keys of a deployment: the current one signs; the previous one (after a rotation) still verifies. */
export interface KeyRing {
  current: SigningKey;
  previous?: SigningKey;
  /** `{ keys: [...] }` as served at the JWKS URI. */
  jwks: { keys: JWK[] };
  byKid: Map<string, SigningKey>;
}

/** A signing-key setting that cannot be used; the message names the variable and the fix. */
export class KeyConfigError extends Error {}

export const CURRENT_KEY_VAR = "EDDY_SIGNING_KEY";
export const PREVIOUS_KEY_VAR = "EDDY_SIGNING_KEY_PREVIOUS";
const HOW = "generate one with `node scripts/signing-key.mjs` (npm start writes one to .dev.vars) and store it with `wrangler secret put";

const rings = new Map<string, Promise<KeyRing>>();

/**
 * The key ring for these two settings, imported once per isolate (importing a key costs far more
 * than using it). Rejects with a KeyConfigError when the current key is missing or unusable.
 *
 * @example
 * const ring = await keyRing(env.EDDY_SIGNING_KEY, env.EDDY_SIGNING_KEY_PREVIOUS);
 */
export function keyRing(current: string | undefined, previous: string | undefined): Promise<KeyRing> {
  const cacheKey = `${current ?? ""}\n${previous ?? ""}`;
  let p = rings.get(cacheKey);
  if (!p) {
    p = build(current, previous);
    if (rings.size >= 8) rings.clear();
    rings.set(cacheKey, p);
    // A bad setting is reported on every use, not cached forever: the secret may be fixed.
    p.catch(() => rings.delete(cacheKey));
  }
  return p;
}

async function build(current: string | undefined, previous: string | undefined): Promise<KeyRing> {
  if (!current || current.trim() === "") {
    throw new KeyConfigError(`${CURRENT_KEY_VAR} is not set: ${HOW} ${CURRENT_KEY_VAR}\``);
  }
  const cur = await importKey(current, CURRENT_KEY_VAR, true);
  const prev = previous && previous.trim() !== "" ? await importKey(previous, PREVIOUS_KEY_VAR, false) : undefined;
  if (prev && prev.kid === cur.kid) {
    throw new KeyConfigError(`${PREVIOUS_KEY_VAR} has the same kid as ${CURRENT_KEY_VAR} ("${cur.kid}"): after a rotation it must hold the old key and ${CURRENT_KEY_VAR} the new one`);
  }
  const byKid = new Map([[cur.kid, cur]]);
  if (prev) byKid.set(prev.kid, prev);
  return { current: cur, ...(prev ? { previous: prev } : {}), jwks: { keys: [cur.publicJwk, ...(prev ? [prev.publicJwk] : [])] }, byKid };
}

async function importKey(text: string, name: string, signs: boolean): Promise<SigningKey> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch {
    throw new KeyConfigError(`${name} is not a JSON Web Key (JSON): ${HOW} ${name}\``);
  }
  const alg = algorithmOf(jwk, name);
  if (typeof jwk.d !== "string") throw new KeyConfigError(`${name} holds a public key; it must be the private JWK (with "d"): ${HOW} ${name}\``);
  const publicJwk = publicPart(jwk);
  const kid = typeof jwk.kid === "string" && jwk.kid !== "" ? jwk.kid : await calculateJwkThumbprint(publicJwk);
  Object.assign(publicJwk, { kid, alg, use: "sig" });
  try {
    const publicKey = (await importJWK(publicJwk, alg)) as CryptoKey;
    const privateKey = signs ? ((await importJWK({ ...jwk, alg }, alg)) as CryptoKey) : undefined;
    return { kid, alg, publicKey, publicJwk, ...(privateKey ? { privateKey } : {}) };
  } catch (e) {
    throw new KeyConfigError(`${name} could not be imported (${(e as Error).message}): ${HOW} ${name}\``);
  }
}

function algorithmOf(jwk: JWK, name: string): SigningAlgorithm {
  if (jwk.kty === "EC" && jwk.crv === "P-256" && (jwk.alg === undefined || jwk.alg === "ES256")) return "ES256";
  if (jwk.kty === "RSA" && (jwk.alg === undefined || jwk.alg === "RS256")) {
    if (typeof jwk.n === "string" && jwk.n.length * 6 < 2048 - 8) throw new KeyConfigError(`${name} is an RSA key shorter than 2048 bits; use 2048 bits or more`);
    return "RS256";
  }
  throw new KeyConfigError(`${name} must be an EC P-256 key (ES256) or an RSA key (RS256), got kty ${String(jwk.kty)}${jwk.crv ? ` crv ${jwk.crv}` : ""}${jwk.alg ? ` alg ${jwk.alg}` : ""}`);
}

function publicPart(jwk: JWK): JWK {
  return jwk.kty === "EC" ? { kty: "EC", crv: jwk.crv!, x: jwk.x!, y: jwk.y! } : { kty: "RSA", n: jwk.n!, e: jwk.e! };
}
