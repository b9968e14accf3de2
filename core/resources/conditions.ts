import type { Condition, Resource } from "./types.js";

/**
 * Builds a status `conditions` list, keeping `lastTransitionTime` from the previous status when a
 * condition did not change, as Kubernetes controllers do.
 *
 * @example
 * const c = new Conditions(old.status?.conditions, now);
 * c.set("BrokerReady", false, "BrokerDoesNotExist", 'Broker "default" does not exist');
 * c.ready(["BrokerReady", "SubscriberResolved"]); // Ready follows the others
 */
export class Conditions {
  private readonly out: Condition[] = [];
  constructor(private readonly previous: Condition[] | undefined, private readonly now: string) {}

  /** `ok` "Unknown" is for what is not settled yet (Knative's MarkUnknown), e.g. a dependency still reconciling. */
  set(type: string, ok: boolean | "Unknown", reason?: string, message?: string): void {
    this.out.push(condition(type, ok, this.previous?.find((c) => c.type === type), this.now, reason, message));
  }

  /**
   * Adds `Ready`, as Knative's living condition sets do: True when every listed condition is True;
   * False with the first False one's reason when any is False; else Unknown with the first Unknown's.
   */
  ready(dependsOn: string[]): boolean {
    const deps = this.out.filter((c) => dependsOn.includes(c.type));
    const failed = deps.find((c) => c.status === "False") ?? deps.find((c) => c.status !== "True");
    if (failed) this.set("Ready", failed.status === "False" ? false : "Unknown", failed.reason, failed.message);
    else this.set("Ready", true);
    return !failed;
  }

  list(): Condition[] {
    return [...this.out].sort((a, b) => a.type.localeCompare(b.type));
  }
}

/**
 * One condition, keeping `lastTransitionTime` from `prev` when the status did not change. Also for
 * conditions that stand alone, such as the `ready` of a Sequence's or Parallel's channel and
 * subscription statuses (a full Knative `apis.Condition` of type Ready).
 */
export function condition(type: string, ok: boolean | "Unknown", prev: Condition | undefined, now: string, reason?: string, message?: string): Condition {
  const status = ok === "Unknown" ? "Unknown" : ok ? "True" : "False";
  const cond: Condition = { type, status, lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now };
  if (reason) cond.reason = reason;
  if (message) cond.message = message;
  return cond;
}

/** True when the resource's `Ready` condition is True. */
export function isReady(r: Resource | undefined): boolean {
  return r?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** The Addressable duck type's status fields for an ingress URL. */
export function addressStatus(url: string): { address: { url: string }; addresses: { name: string; url: string }[] } {
  return { address: { url }, addresses: [{ name: new URL(url).protocol.slice(0, -1), url }] };
}
