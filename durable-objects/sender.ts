import type { CloudEvent } from "../core/cloudevents/event.js";
import type { AttemptSpec } from "../core/delivery/messages.js";
import { compileAuthorizer, type Authorizer, type Sender } from "../core/identity/policy.js";
import { authSettings, type AuthVars } from "../core/identity/settings.js";
import { deliveryAuth } from "../core/resources/identity.js";
import type { AuthPlan } from "../core/identity/policy.js";
import type { DispatcherPlan, RoutePlan } from "../core/resources/plan.js";

/**
 * The authorization of one data-plane object: its plan's EventPolicies compiled once per plan,
 * checked on every publish that names a sender. The Worker has already checked the token (401);
 * this decides 403 before anything is stored. A publish without a sender comes from inside the
 * object itself (a source's webhook or tick) and is not checked.
 *
 * @example
 * const why = guard.refuse(events, sender); // undefined, or the 403 message
 */
export class SenderGuard {
  private authorizer: Authorizer = compileAuthorizer(undefined, "", "");

  constructor(private readonly env: AuthVars) {}

  configure(plan: DispatcherPlan | null): void {
    this.authorizer = compileAuthorizer(plan?.options?.auth as AuthPlan | undefined, plan?.namespace ?? "", plan ? `${plan.kind} "${plan.name}" in namespace "${plan.namespace}"` : "");
  }

  refuse(events: readonly CloudEvent[], sender: Sender | undefined): string | undefined {
    if (!sender) return undefined;
    const settings = authSettings(this.env);
    if (!settings.oidc) return undefined;
    return this.authorizer.check(events, sender, settings.defaultMode);
  }
}

/** The spec with what its route says about who sends it (identity, audience, signing secret). */
export function withDeliveryAuth<T extends AttemptSpec>(spec: T, route: RoutePlan | undefined): T {
  const auth = route ? deliveryAuth(route, spec.hop) : undefined;
  return auth ? { ...spec, auth } : spec;
}
