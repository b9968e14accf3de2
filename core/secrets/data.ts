import { fromBase64, toBase64 } from "../base64.js";
import { open, seal, sealedWith, SecretKeyError, type SecretKeys } from "./seal.js";

/**
 * A Secret's `data` map sealed and opened value by value (core/secrets/seal.ts): stored objects keep
 * their keys in the clear (so a reference to a missing key is seen without a key) and every value
 * sealed for `namespace/name/key`.
 */
export type DataMap = Record<string, string>;

const where = (ns: string, name: string, key: string) => `${ns}/${name}/${key}`;

/** Seals base64 values (as a client sends `data`). */
export async function sealData(keys: SecretKeys, ns: string, name: string, data: DataMap): Promise<DataMap> {
  const out: DataMap = {};
  for (const [k, v] of Object.entries(data)) out[k] = await seal(keys, fromBase64(v), where(ns, name, k));
  return out;
}

/**
 * Opens sealed values back to base64. A value that does not open (its key was rotated away) is
 * left out and named in `lost`, so one bad value does not hide the others.
 */
export async function openData(keys: SecretKeys, ns: string, name: string, data: DataMap): Promise<{ data: DataMap; lost: string[] }> {
  const out: DataMap = {};
  const lost: string[] = [];
  for (const [k, v] of Object.entries(data)) {
    try {
      out[k] = toBase64(await open(keys, v, where(ns, name, k)));
    } catch (e) {
      if (!(e instanceof SecretKeyError)) throw e;
      lost.push(k);
    }
  }
  return { data: out, lost };
}

/** One value as text (webhook and signing secrets are text), or undefined when the key is absent. */
export async function openValue(keys: SecretKeys, ns: string, name: string, data: DataMap | undefined, key: string): Promise<string | undefined> {
  const v = data?.[key];
  if (v === undefined) return undefined;
  return new TextDecoder().decode(await open(keys, v, where(ns, name, key)));
}

/** Whether some value was sealed with a key other than the current one (a rotation is under way). */
export function staleData(keys: SecretKeys, data: DataMap | undefined): boolean {
  return Object.values(data ?? {}).some((v) => sealedWith(v) !== keys.current.kid);
}
