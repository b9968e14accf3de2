import { md5Hex } from "./md5.js";

/** Kubernetes' prefix of every ServiceAccount subject: `system:serviceaccount:{namespace}:{name}`. */
export const SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:";

/** The JWT `sub` of a ServiceAccount, as Kubernetes writes it. */
export function subjectOf(namespace: string, serviceAccount: string): string {
  return `${SERVICE_ACCOUNT_PREFIX}${namespace}:${serviceAccount}`;
}

/**
 * The OIDC audience of an addressable, as Knative computes it (`auth.GetAudience`): lowercase
 * `<group>/<kind>/<namespace>/<name>`.
 *
 * @example
 * audienceOf("eventing.knative.dev", "Broker", "demo", "default"); // "eventing.knative.dev/broker/demo/default"
 */
export function audienceOf(group: string, kind: string, namespace: string, name: string): string {
  return `${group}/${kind}/${namespace}/${name}`.toLowerCase();
}

/**
 * The name of the ServiceAccount a Trigger, Subscription or source sends as, with Knative's rule
 * (`auth.GetOIDCServiceAccountNameForResource`): `<name>-oidc-<group>-<kind>`, lowercased, shortened
 * with an MD5 the way `kmeta.ChildName` does when longer than 63 characters.
 *
 * @example
 * oidcServiceAccountName("greetings", "eventing.knative.dev", "Trigger"); // "greetings-oidc-eventing.knative.dev-trigger"
 */
export function oidcServiceAccountName(name: string, group: string, kind: string): string {
  return childName(name, `-oidc-${group}-${kind}`).toLowerCase();
}

const LONGEST = 63;
const MD5_LEN = 32;
const HEAD = LONGEST - MD5_LEN;

/** knative.dev/pkg/kmeta.ChildName. */
export function childName(parent: string, suffix: string): string {
  let n = parent;
  if (parent.length > LONGEST - suffix.length) {
    if (HEAD - suffix.length <= 0) {
      // The suffix alone leaves no room: hash everything, keep what fits of the parent, then of the suffix.
      let ret = parent.slice(0, HEAD) + md5Hex(parent + suffix);
      const room = LONGEST - ret.length;
      if (room > 0) ret += suffix.slice(0, room);
      return validEnd(ret);
    }
    n = parent.slice(0, HEAD - suffix.length) + md5Hex(parent);
  }
  return validEnd(n + suffix);
}

/** Names end in a letter or digit: trim what a cut left behind. */
function validEnd(s: string): string {
  return s.replace(/[^a-zA-Z0-9]+$/, "");
}
