import type { CrdInfo, Schema } from "./crds.js";

// Kubernetes' built-in kinds Eddy serves besides ServiceAccount, described as their OpenAPI schemas
// describe them, so that `kubectl explain` and strict field validation know their fields.

const str = (description: string): Schema => ({ type: "string", description });
const list = (description: string): Schema => ({ type: "array", description, items: { type: "string" } });
const AGE = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };
const RBAC = "rbac.authorization.k8s.io";

const RULES: Schema = {
  type: "array",
  description: "Rules: each grants its verbs on its resources (in its apiGroups), or on nonResourceURLs (ClusterRoles).",
  items: {
    type: "object",
    properties: {
      verbs: list("Verbs: get, list, watch, create, update, patch, delete, deletecollection, or * for all."),
      apiGroups: list('API groups of the resources; "" is the core group (secrets, serviceaccounts), * is any.'),
      resources: list("Resources (plural names), resource/subresource (brokers/stats, brokers/deadletters, brokers/tail, serviceaccounts/token), or *."),
      resourceNames: list("Names the rule is limited to; empty means every object."),
      nonResourceURLs: list("ClusterRoles only: paths that are not resources, such as /version or /openapi/*."),
    },
  },
};

const SUBJECTS: Schema = {
  type: "array",
  description: "Who the role is granted to.",
  items: {
    type: "object",
    properties: {
      kind: str("ServiceAccount, User or Group."),
      name: str("Name of the subject."),
      namespace: str("Namespace of a ServiceAccount; a RoleBinding's own when empty."),
      apiGroup: str('"" for ServiceAccounts, rbac.authorization.k8s.io for Users and Groups.'),
    },
  },
};

const ROLE_REF: Schema = {
  type: "object",
  description: "The role granted; it cannot change once the binding exists.",
  properties: { apiGroup: str(`${RBAC}.`), kind: str("Role (RoleBindings only) or ClusterRole."), name: str("Name of the role.") },
};

const role = (kind: string, plural: string, scope: string): CrdInfo => ({
  group: RBAC, version: "v1", kind, plural, singular: kind.toLowerCase(),
  schema: { type: "object", description: `${kind}: rules that grant access ${scope}; a binding gives them to subjects.`, properties: { rules: RULES, ...(kind === "ClusterRole" ? { aggregationRule: { type: "object", description: "Not supported by Eddy.", "x-kubernetes-preserve-unknown-fields": true } } : {}) } },
  columns: [{ name: "Created At", type: "date", jsonPath: ".metadata.creationTimestamp" }],
});

const binding = (kind: string, plural: string, scope: string): CrdInfo => ({
  group: RBAC, version: "v1", kind, plural, singular: kind.toLowerCase(),
  schema: { type: "object", description: `${kind}: grants a role to subjects ${scope}.`, properties: { subjects: SUBJECTS, roleRef: ROLE_REF } },
  columns: [{ name: "Role", type: "string", jsonPath: ".roleRef.name" }, AGE],
});

export const BUILTIN_CRDS: readonly CrdInfo[] = [
  {
    group: "", version: "v1", kind: "Secret", plural: "secrets", singular: "secret",
    schema: {
      type: "object",
      description: "Secret holds values (webhook signing secrets, HMAC keys) that WebhookSources and eddy.dev/signing-secret name by secretKeyRef; sealed at rest.",
      properties: {
        type: str("Opaque (the only type Eddy serves)."),
        data: { type: "object", description: "Keys and their base64 values.", additionalProperties: { type: "string", format: "byte" } },
        stringData: { type: "object", description: "Write-only: keys and plain-text values, merged into data.", additionalProperties: { type: "string" } },
        immutable: { type: "boolean", description: "When true, data cannot change; delete and recreate the Secret instead." },
      },
    },
    columns: [{ name: "Type", type: "string", jsonPath: ".type" }, AGE],
  },
  role("Role", "roles", "in its namespace"),
  role("ClusterRole", "clusterroles", "in every namespace, or at the cluster scope"),
  binding("RoleBinding", "rolebindings", "in its namespace"),
  binding("ClusterRoleBinding", "clusterrolebindings", "in every namespace"),
];
