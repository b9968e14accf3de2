import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { setCorrelationVerifier } from "../cesql/functions.js";

/**
 * Correlation ids of RequestReply (Knative's `<id>:<proof>:<replica>` shape): a random request
 * token, a MAC that only this deployment can make, and the shard (the object holding the request).
 * `token:mac:shard`, all URL-safe, no colon inside a part.
 *
 * The MAC keys are derived (HKDF-SHA256) from the deployment's signing keys, `EDDY_SIGNING_KEY`
 * and, after a rotation, `EDDY_SIGNING_KEY_PREVIOUS`: ids are made with the current key and
 * accepted with either, so rotating the signing key rotates these too. Synchronous on purpose: a
 * Trigger filter (`KN_VERIFY_CORRELATION_ID` in CESQL) checks them, and filters are synchronous.
 */
export interface CorrelationKeys {
  /** The current key first; the previous one after a rotation. */
  readonly keys: readonly Uint8Array[];
}

export interface RequestReplyRef {
  namespace: string;
  name: string;
}

const enc = new TextEncoder();
const INFO = enc.encode("eddy.dev/requestreply correlation v1");
const MAC_BYTES = 16;
const cache = new Map<string, CorrelationKeys | undefined>();

function keyOf(jwkText: string | undefined): Uint8Array | undefined {
  if (!jwkText || jwkText.trim() === "") return undefined;
  let d: unknown;
  try {
    d = (JSON.parse(jwkText) as { d?: unknown }).d;
  } catch {
    return undefined;
  }
  if (typeof d !== "string" || d === "") return undefined;
  return hkdf(sha256, enc.encode(d), enc.encode("eddy"), INFO, 32);
}

/**
 * The keys of a deployment from its two signing-key settings (the private JWKs); undefined when
 * the current one is missing or not a private JWK (the caller says what to set).
 *
 * @example
 * const keys = correlationKeys(env.EDDY_SIGNING_KEY, env.EDDY_SIGNING_KEY_PREVIOUS);
 */
export function correlationKeys(current: string | undefined, previous: string | undefined): CorrelationKeys | undefined {
  const k = `${current ?? ""}\n${previous ?? ""}`;
  if (cache.has(k)) return cache.get(k);
  const cur = keyOf(current);
  const prev = keyOf(previous);
  const keys = cur ? { keys: prev ? [cur, prev] : [cur] } : undefined;
  if (cache.size >= 8) cache.clear();
  cache.set(k, keys);
  return keys;
}

function b64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function mac(key: Uint8Array, rr: RequestReplyRef, shard: number, token: string): string {
  return b64url(hmac(sha256, key, enc.encode(`${rr.namespace}/${rr.name}|${shard}|${token}`)).subarray(0, MAC_BYTES));
}

/** A fresh request token: 16 random bytes. */
export function newToken(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(16)));
}

/**
 * The correlation id of request `token`, held by shard `shard` of the RequestReply `rr`.
 *
 * @example
 * signCorrelationId(keys, { namespace: "demo", name: "rr" }, 0, newToken()); // "q3Vx…:Zk2…:0"
 */
export function signCorrelationId(keys: CorrelationKeys, rr: RequestReplyRef, shard: number, token: string): string {
  return `${token}:${mac(keys.keys[0]!, rr, shard, token)}:${shard}`;
}

/** The parts of an id, when it has the shape of one (nothing is verified). */
export function parseCorrelationId(value: unknown): { token: string; mac: string; shard: number } | undefined {
  if (typeof value !== "string" || value.length > 200) return undefined;
  const parts = value.split(":");
  if (parts.length !== 3 || !/^[0-9]{1,5}$/.test(parts[2]!)) return undefined;
  const [token, m] = parts as [string, string];
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(token) || !/^[A-Za-z0-9_-]+$/.test(m)) return undefined;
  return { token, mac: m, shard: Number(parts[2]) };
}

/**
 * The request token and shard of `value` when this deployment made it for `rr` (with either key);
 * undefined for anything unsigned, forged, or made for another RequestReply.
 */
export function verifyCorrelationId(keys: CorrelationKeys | undefined, value: unknown, rr: RequestReplyRef): { token: string; shard: number } | undefined {
  const p = parseCorrelationId(value);
  if (!p || !keys) return undefined;
  for (const k of keys.keys) if (sameText(mac(k, rr, p.shard, p.token), p.mac)) return { token: p.token, shard: p.shard };
  return undefined;
}

/** Compares without stopping at the first difference. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Knative's `KN_VERIFY_CORRELATION_ID(id, name, namespace, secretName, replica, replicas)`: true
 * when `id` was made by this deployment for the RequestReply `namespace/name` and belongs to
 * `replica` out of `replicas` shards. `secretName` names Knative's key Secret; Eddy's keys are its
 * signing keys, so it is not read.
 */
export function knVerifyCorrelationId(keys: CorrelationKeys | undefined, id: string, name: string, namespace: string, replica: number, replicas: number): boolean {
  const p = parseCorrelationId(id);
  if (!p || replicas <= 0 || p.shard % replicas !== replica) return false;
  return verifyCorrelationId(keys, id, { namespace, name }) !== undefined;
}

/**
 * Gives CESQL's `KN_VERIFY_CORRELATION_ID` this deployment's keys; called by every object that
 * evaluates Trigger filters, before it compiles them.
 *
 * @example
 * useCorrelationKeys(env); // in the Broker, with EDDY_SIGNING_KEY and EDDY_SIGNING_KEY_PREVIOUS
 */
export function useCorrelationKeys(env: { EDDY_SIGNING_KEY?: string; EDDY_SIGNING_KEY_PREVIOUS?: string }): void {
  const keys = correlationKeys(env.EDDY_SIGNING_KEY, env.EDDY_SIGNING_KEY_PREVIOUS);
  setCorrelationVerifier((id, name, namespace, _secret, replica, replicas) => knVerifyCorrelationId(keys, id, name, namespace, replica, replicas));
}
