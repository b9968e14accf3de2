import { fromBase64, toBase64 } from "../base64.js";

/**
 * Secret values at rest: AES-256-GCM with a key from the deployment's secrets (`EDDY_SECRETS_KEY`,
 * 32 random bytes in base64; `EDDY_SECRETS_KEY_PREVIOUS` during a rotation). Each value is sealed
 * on its own, bound to where it lives (`namespace/name/key` as additional data, so a sealed value
 * copied elsewhere does not open), as `eddy:v1:<kid>:<base64 of IV and ciphertext>`; the key id
 * says which key sealed it, so values sealed before a rotation still open and can be sealed again.
 *
 * @example
 * const keys = await secretKeys(env.EDDY_SECRETS_KEY, env.EDDY_SECRETS_KEY_PREVIOUS);
 * const sealed = await seal(keys, bytes, "demo/github/secret");
 * await open(keys, sealed, "demo/github/secret"); // bytes
 */
export interface SecretKey {
  kid: string;
  key: CryptoKey;
}

export interface SecretKeys {
  current: SecretKey;
  byKid: Map<string, SecretKey>;
}

/** A configuration problem of the deployment, named with its fix (the API logs it behind a 500). */
export class SecretKeyError extends Error {}

const PREFIX = "eddy:v1:";
const rings = new Map<string, Promise<SecretKeys>>();

async function importKey(name: string, b64: string): Promise<SecretKey> {
  let raw: Uint8Array;
  try {
    raw = fromBase64(b64.trim());
  } catch {
    throw new SecretKeyError(`${name} is not base64: generate one with \`node scripts/secrets-key.mjs\``);
  }
  if (raw.length !== 32) throw new SecretKeyError(`${name} must be 32 bytes (base64 of 32 random bytes), got ${raw.length}: generate one with \`node scripts/secrets-key.mjs\``);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw as Uint8Array<ArrayBuffer>));
  const kid = [...digest.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { kid, key: await crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, "AES-GCM", false, ["encrypt", "decrypt"]) };
}

/** The keys of this deployment, imported once per isolate; a missing or malformed key throws SecretKeyError. */
export function secretKeys(current: string | undefined, previous?: string): Promise<SecretKeys> {
  if (!current) {
    return Promise.reject(new SecretKeyError("the deployment has no EDDY_SECRETS_KEY, which seals Secrets at rest: `node scripts/secrets-key.mjs | npx wrangler secret put EDDY_SECRETS_KEY` (npm start writes one to .dev.vars)"));
  }
  const id = `${current}\n${previous ?? ""}`;
  let ring = rings.get(id);
  if (!ring) {
    ring = (async () => {
      const cur = await importKey("EDDY_SECRETS_KEY", current);
      const byKid = new Map([[cur.kid, cur]]);
      if (previous) {
        const prev = await importKey("EDDY_SECRETS_KEY_PREVIOUS", previous);
        if (prev.kid === cur.kid) throw new SecretKeyError("EDDY_SECRETS_KEY_PREVIOUS is the same key as EDDY_SECRETS_KEY: it must hold the key used before the rotation");
        byKid.set(prev.kid, prev);
      }
      return { current: cur, byKid };
    })();
    ring.catch(() => rings.delete(id));
    if (rings.size > 4) rings.clear();
    rings.set(id, ring);
  }
  return ring;
}

const enc = new TextEncoder();

/** Seals one value for `where` (`namespace/name/key`) under the current key. */
export async function seal(keys: SecretKeys, value: Uint8Array, where: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: enc.encode(where) }, keys.current.key, value as Uint8Array<ArrayBuffer>));
  const out = new Uint8Array(iv.length + ct.length);
  out.set(iv);
  out.set(ct, iv.length);
  return `${PREFIX}${keys.current.kid}:${toBase64(out)}`;
}

/** The id of the key that sealed a value (undefined when it is not a sealed value). */
export function sealedWith(sealed: string): string | undefined {
  if (!sealed.startsWith(PREFIX)) return undefined;
  const rest = sealed.slice(PREFIX.length);
  return rest.slice(0, rest.indexOf(":"));
}

/** Opens a value sealed for `where`; throws SecretKeyError when its key is gone or it was tampered with. */
export async function open(keys: SecretKeys, sealed: string, where: string): Promise<Uint8Array> {
  const kid = sealedWith(sealed);
  const key = kid === undefined ? undefined : keys.byKid.get(kid);
  if (!key) {
    throw new SecretKeyError(`a value of Secret ${where.split("/").slice(0, 2).join("/")} was sealed with key ${kid ?? "(none)"}, which this deployment no longer has: restore it as EDDY_SECRETS_KEY_PREVIOUS, or write the Secret again`);
  }
  const bytes = fromBase64(sealed.slice(PREFIX.length + kid!.length + 1));
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.subarray(0, 12) as Uint8Array<ArrayBuffer>, additionalData: enc.encode(where) }, key.key, bytes.subarray(12) as Uint8Array<ArrayBuffer>));
  } catch {
    throw new SecretKeyError(`a value of Secret ${where.split("/").slice(0, 2).join("/")} does not open: it was changed at rest or copied from elsewhere; write the Secret again`);
  }
}
