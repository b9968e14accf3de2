import { planKeyString, type PlanKey } from "../../core/resources/plan.js";
import { validateName } from "../../core/resources/validate.js";
import type { Env } from "../env.js";

/**
 * Which ingress addresses exist, asked before any data-plane object is touched: a Durable Object
 * that is merely addressed already costs storage (locally workerd creates its database files on the
 * first call), so an anonymous caller posting to made-up paths must not reach one.
 *
 * The answer comes from objects that exist anyway: the Directory lists the namespaces in use, and
 * each namespace's control plane knows the objects it configured. Both are remembered per isolate
 * for TTL_MS, so probes of unknown paths cost a map lookup, and producers of real addresses pay
 * nothing on the hot path. A write through the API forgets what this isolate remembered of its
 * namespace (see `forgetAddresses`); other isolates learn of a new address within TTL_MS.
 */
const TTL_MS = 5_000;

interface Remembered<T> {
  value: Promise<T>;
  until: number;
}

let namespaces: Remembered<Set<string>> | undefined;
/** Bounded by the namespaces the Directory lists, which only the API creates. */
const addresses = new Map<string, Remembered<Set<string>>>();

function fresh<T>(r: Remembered<T> | undefined, now: number): r is Remembered<T> {
  return r !== undefined && r.until > now;
}

/** Whether a namespace and an object name could name anything at all (DNS labels, as the API admits them). */
export function plausible(ns: string, name: string): boolean {
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns) && ns.length <= 63 && validateName(name, "name").length === 0;
}

/**
 * Whether the data-plane object `key` of namespace `ns` is configured, by what the namespace's
 * control plane last handed out; no data-plane object is called.
 *
 * @example
 * if (!(await addressExists(env, "demo", { binding: "BROKER", name: "demo/default" }))) throw notFound;
 */
export async function addressExists(env: Env, ns: string, key: PlanKey): Promise<boolean> {
  const now = Date.now();
  if (!fresh(namespaces, now)) {
    const value = env.DIRECTORY.get(env.DIRECTORY.idFromName("global")).list().then((l) => new Set(l.map((n) => n.name)));
    namespaces = { value, until: now + TTL_MS };
    value.catch(() => (namespaces = undefined));
  }
  if (!(await namespaces.value).has(ns)) return false;
  let known = addresses.get(ns);
  if (!fresh(known, now)) {
    const value = env.NAMESPACE.get(env.NAMESPACE.idFromName(ns)).addresses().then((keys) => new Set(keys));
    known = { value, until: now + TTL_MS };
    addresses.set(ns, known);
    value.catch(() => addresses.delete(ns));
  }
  return (await known.value).has(planKeyString(key));
}

/** After a write to `ns` through this isolate: its addresses are asked again on next use. */
export function forgetAddresses(ns: string): void {
  namespaces = undefined;
  addresses.delete(ns);
}
