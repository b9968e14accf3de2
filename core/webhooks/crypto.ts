import { fromBase64 } from "../base64.js";

const enc = new TextEncoder();
export type HmacAlgorithm = "sha1" | "sha256" | "sha512";
const HASH: Record<HmacAlgorithm, string> = { sha1: "SHA-1", sha256: "SHA-256", sha512: "SHA-512" };

export function hexToBytes(hex: string): Uint8Array | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function base64ToBytes(b64: string): Uint8Array | null {
  try {
    return fromBase64(b64.trim());
  } catch {
    return null;
  }
}

export function concat(...parts: (Uint8Array | string)[]): Uint8Array {
  const bufs = parts.map((p) => (typeof p === "string" ? enc.encode(p) : p));
  const out = new Uint8Array(bufs.reduce((n, b) => n + b.length, 0));
  let off = 0;
  for (const b of bufs) {
    out.set(b, off);
    off += b.length;
  }
  return out;
}

/**
 * True when `signature` is the HMAC of `data` under any of `keys`. Uses WebCrypto's verify, which
 * compares in constant time, so no secret-dependent timing leaks.
 *
 * @example
 * await hmacMatches("sha256", [enc.encode("secret")], body, hexToBytes(sigHex)!);
 */
/** TypeScript's DOM typings want ArrayBuffer-backed views; ours always are. */
const bs = (u: Uint8Array) => u as Uint8Array<ArrayBuffer>;

export async function hmacMatches(alg: HmacAlgorithm, keys: Uint8Array[], data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  for (const k of keys) {
    const key = await crypto.subtle.importKey("raw", bs(k), { name: "HMAC", hash: HASH[alg] }, false, ["verify"]);
    if (await crypto.subtle.verify("HMAC", key, bs(signature), bs(data))) return true;
  }
  return false;
}

export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", bs(typeof data === "string" ? enc.encode(data) : data));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export const utf8 = (s: string) => enc.encode(s);
