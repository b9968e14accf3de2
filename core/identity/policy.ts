import type { CloudEvent } from "../cloudevents/event.js";
import { eventView } from "../cloudevents/view.js";
import { compileFilters, type Filter } from "../filters/index.js";
import { log } from "../log.js";
import { SERVICE_ACCOUNT_PREFIX } from "./names.js";
import type { AuthorizationMode } from "./settings.js";

/** Who sent a request, once its token checked out: the admin token, or a token's subject. */
export type Sender = { admin: true } | { subject: string };

/** One EventPolicy that applies to an addressable, in the form its data plane evaluates. */
export interface PlanPolicy {
  name: string;
  /** Resolved subjects (`status.from`); a trailing `*` matches any subject with that prefix. */
  from: string[];
  /** `spec.filters`, the Trigger dialects; every one must pass. */
  filters?: unknown[];
}

/** What a data-plane object needs to authorize senders; `DispatcherPlan.options.auth`. */
export interface AuthPlan {
  /** The addressable's audience (`status.address.audience`). */
  audience: string;
  /** The Ready EventPolicies that apply (`status.policies`); none means the default mode decides. */
  policies: PlanPolicy[];
}

/**
 * Knative's `auth.SubjectContained`: equal ignoring case, or the allowed entry ends in `*` and the
 * subject starts with what precedes it.
 *
 * @example
 * subjectAllowed("system:serviceaccount:demo:app", ["system:serviceaccount:demo:*"]); // true
 */
export function subjectAllowed(subject: string, allowed: readonly string[]): boolean {
  const lower = subject.toLowerCase();
  return allowed.some((s) => s.toLowerCase() === lower || (s.endsWith("*") && subject.startsWith(s.slice(0, -1))));
}

export interface Authorizer {
  /** undefined when every event may pass; otherwise why not (the 403 message). */
  check(events: readonly CloudEvent[], sender: Sender, mode: AuthorizationMode): string | undefined;
}

/**
 * Compiles the policies of a plan once, so each publish only compares subjects and runs filters.
 * Knative's rule: with policies, an event passes when one policy lists the sender and all of its
 * filters pass; without, the default mode decides (`allow-same-namespace` compares the subject's
 * namespace). The admin token passes everything.
 *
 * @example
 * compileAuthorizer({ audience, policies: [] }, "demo", 'Broker "default"').check(events, { subject }, "deny-all");
 */
export function compileAuthorizer(auth: AuthPlan | undefined, namespace: string, what: string): Authorizer {
  const policies = (auth?.policies ?? []).map((p) => ({ ...p, filter: compiledFilter(p) }));
  return {
    check(events, sender, mode) {
      if ("admin" in sender) return undefined;
      const sub = sender.subject;
      if (policies.length === 0) {
        if (mode === "allow-all") return undefined;
        if (mode === "deny-all") {
          return `no EventPolicy applies to ${what} and DEFAULT_AUTHORIZATION_MODE is deny-all: create an EventPolicy for it whose spec.from allows "${sub}"`;
        }
        if (sub.startsWith(`${SERVICE_ACCOUNT_PREFIX}${namespace}:`)) return undefined;
        return `"${sub}" is not a ServiceAccount of namespace "${namespace}", and no EventPolicy applies to ${what} (DEFAULT_AUTHORIZATION_MODE is allow-same-namespace): create an EventPolicy whose spec.from allows it`;
      }
      const mine = policies.filter((p) => subjectAllowed(sub, p.from));
      const names = policies.map((p) => p.name).join(", ");
      if (mine.length === 0) return `no EventPolicy that applies to ${what} (${names}) allows "${sub}": add it to spec.from of one of them`;
      for (const ev of events) {
        const view = eventView(ev);
        if (!mine.some((p) => p.filter(view))) {
          return `event "${String(ev.attrs.id)}" does not pass the spec.filters of EventPolicy ${mine.map((p) => p.name).join(", ")}, which allow "${sub}" to send to ${what}`;
        }
      }
      return undefined;
    },
  };
}

const DENY: Filter = () => false;

function compiledFilter(p: PlanPolicy): Filter {
  if (!p.filters || p.filters.length === 0) return () => true;
  try {
    return compileFilters(p.filters);
  } catch (e) {
    // Admission validated the filters; a failure means damaged stored data. Fail closed.
    log.error("EventPolicy filters failed to compile; the policy admits nothing", { policy: p.name, error: String(e) });
    return DENY;
  }
}
