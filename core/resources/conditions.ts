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

  set(type: string, ok: boolean, reason?: string, message?: string): void {
    const status = ok ? "True" : "False";
    const prev = this.previous?.find((c) => c.type === type);
    const cond: Condition = {
      type,
      status,
      lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : this.now,
    };
    if (reason) cond.reason = reason;
    if (message) cond.message = message;
    this.out.push(cond);
  }

  /** Adds `Ready`: True when every listed condition is True, else False with the first failure's reason. */
  ready(dependsOn: string[]): boolean {
    const failed = this.out.find((c) => dependsOn.includes(c.type) && c.status !== "True");
    if (failed) this.set("Ready", false, failed.reason, failed.message);
    else this.set("Ready", true);
    return !failed;
  }

  list(): Condition[] {
    return [...this.out].sort((a, b) => a.type.localeCompare(b.type));
  }
}

/** True when the resource's `Ready` condition is True. */
export function isReady(r: Resource | undefined): boolean {
  return r?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** The Addressable duck type's status fields for an ingress URL. */
export function addressStatus(url: string): { address: { url: string }; addresses: { name: string; url: string }[] } {
  return { address: { url }, addresses: [{ name: new URL(url).protocol.slice(0, -1), url }] };
}
