import type { KindDef } from "../kind.js";

/**
 * Kubernetes' `v1` ServiceAccount: an identity producers send events as. It holds nothing but its
 * name; a TokenRequest (`POST .../serviceaccounts/{name}/token`) turns it into a signed token whose
 * subject is `system:serviceaccount:{namespace}:{name}`. Served under `/api/v1` like the core group.
 */
export const ServiceAccountKind: KindDef = {
  group: "",
  version: "v1",
  kind: "ServiceAccount",
  plural: "serviceaccounts",
  order: 1,
  defaults() {},
  validate() {
    return [];
  },
  // Nothing to compute: a ServiceAccount has no status in Kubernetes (the API leaves it out).
  reconcile() {
    return {};
  },
};
