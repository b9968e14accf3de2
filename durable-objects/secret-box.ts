import { ApiError } from "../core/errors.js";
import { IMMUTABLE } from "../core/resources/kinds/secret.js";
import type { Resource } from "../core/resources/types.js";
import { type DataMap, openData, openValue, sealData, staleData } from "../core/secrets/data.js";
import { SecretKeyError, secretKeys, type SecretKeys } from "../core/secrets/seal.js";

/** The deployment's keys for Secrets; a missing or malformed key is a 500 whose log line names the fix. */
export async function deploymentSecretKeys(env: { EDDY_SECRETS_KEY?: string; EDDY_SECRETS_KEY_PREVIOUS?: string }): Promise<SecretKeys> {
  try {
    return await secretKeys(env.EDDY_SECRETS_KEY, env.EDDY_SECRETS_KEY_PREVIOUS);
  } catch (e) {
    if (e instanceof SecretKeyError) throw new ApiError(500, e.message);
    throw e;
  }
}

/**
 * A namespace's Secrets at rest (core/secrets): sealed before they are stored, so neither the
 * object's storage nor its change log (watch history) ever holds a plain value; sealed again under
 * the current key when listed after a rotation; opened one value at a time for the sources and
 * routes that name them by secretKeyRef.
 */
export class SecretBox {
  constructor(private readonly env: { EDDY_SECRETS_KEY?: string; EDDY_SECRETS_KEY_PREVIOUS?: string }) {}

  /** The object to store for a Secret admission produced (plain base64 `data`); an immutable one must keep its values. */
  async seal(ns: string, obj: Resource, old: Resource | undefined): Promise<Resource> {
    const keys = await deploymentSecretKeys(this.env);
    const data = (obj.data ?? {}) as DataMap;
    if (old?.immutable === true) {
      const before = await openData(keys, ns, obj.metadata.name, (old.data ?? {}) as DataMap);
      if (JSON.stringify(before.data) !== JSON.stringify(data)) throw ApiError.invalid("Secret", obj.metadata.name, [{ field: "data", message: IMMUTABLE }]);
    }
    return obj.data === undefined ? obj : { ...obj, data: await sealData(keys, ns, obj.metadata.name, data) };
  }

  /** The Secret sealed under the current key, or undefined when it already is (after a rotation, see docs/security.md). */
  async reseal(ns: string, obj: Resource): Promise<Resource | undefined> {
    const keys = await deploymentSecretKeys(this.env);
    if (!staleData(keys, obj.data as DataMap | undefined)) return undefined;
    const { data, lost } = await openData(keys, ns, obj.metadata.name, obj.data as DataMap);
    if (lost.length) return undefined; // cannot be opened any more: left as it is, and named when read
    return { ...obj, data: await sealData(keys, ns, obj.metadata.name, data) };
  }

  /** One value as text, for a secretKeyRef; undefined when the key is absent. */
  async value(ns: string, obj: Resource, key: string): Promise<string | undefined> {
    return openValue(await deploymentSecretKeys(this.env), ns, obj.metadata.name, obj.data as DataMap | undefined, key);
  }
}
