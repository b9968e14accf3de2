import { bindingValue, type SecretSource } from "../core/secrets/refs.js";
import type { Env } from "./env.js";

/**
 * Values of the secrets routes and sources name (core/secrets/refs.ts), wherever they are needed:
 * a Source checking a webhook's signature, an object or a queue consumer signing a delivery. A
 * binding is read from the environment (only under the SECRET_ prefix); a secretKeyRef is asked of
 * the namespace's object, which opens the sealed value, and remembered per isolate under the
 * Secret's resourceVersion: a Secret written again takes effect with the next plan, no restart.
 */
const cache = new Map<string, Promise<string | undefined>>();
const CACHE_MAX = 1000;

export function secretValue(env: Env, ns: string, src: SecretSource): Promise<string | undefined> {
  if ("binding" in src) return Promise.resolve(bindingValue(env, src.binding));
  const { name, key } = src.secretKeyRef;
  const id = `${ns}/${name}/${key}@${src.version ?? ""}`;
  let hit = cache.get(id);
  if (!hit) {
    hit = env.NAMESPACE.get(env.NAMESPACE.idFromName(ns)).secretValue(name, key);
    hit.catch(() => cache.delete(id));
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(id, hit);
  }
  return hit;
}
