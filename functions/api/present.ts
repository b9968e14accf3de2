import { openData, type DataMap } from "../../core/secrets/data.js";
import type { Resource } from "../../core/resources/types.js";
import { log } from "../../core/log.js";
import { deploymentSecretKeys } from "../../durable-objects/secret-box.js";
import { can, type C } from "./context.js";
import type { Target } from "./request.js";

/** How objects of a kind leave the API; the identity for every kind but Secret. */
export type Presenter = (obj: Resource) => Promise<Resource>;

const same: Presenter = (obj) => Promise.resolve(obj);

/**
 * Secrets as the API shows them: stored values are sealed (durable-objects/secret-box.ts) and are
 * opened here for one object the caller may read or has just written, and for a list or watch only
 * when RBAC lets the caller `get` secrets in that namespace; otherwise a listed Secret goes out
 * without `data` (its name, type and metadata only). A value that no longer opens (its key was
 * rotated out) is left out and logged.
 *
 * @example
 * const show = await presenter(c, t, "list");
 * items = await Promise.all(items.map(show));
 */
export async function presenter(c: C, t: Target, mode: "object" | "list"): Promise<Presenter> {
  if (t.kind.kind !== "Secret") return same;
  const reveal = mode === "object" || (await can(c.get("access"), "get", "", "secrets", t.ns));
  if (!reveal) {
    return (obj) => {
      const { data: _hidden, ...rest } = obj;
      return Promise.resolve(rest as Resource);
    };
  }
  const keys = await deploymentSecretKeys(c.env);
  return async (obj) => {
    if (!obj.data) return obj;
    const { data, lost } = await openData(keys, obj.metadata.namespace, obj.metadata.name, obj.data as DataMap);
    if (lost.length) log.warn("Secret values that no longer open were left out", { namespace: obj.metadata.namespace, secret: obj.metadata.name, keys: lost.join(", "), fix: "set EDDY_SECRETS_KEY_PREVIOUS to the key they were sealed with, or write the Secret again" });
    return { ...obj, data };
  };
}
