import type { FieldError } from "../../errors.js";
import { isBuiltin } from "../../rbac/builtin.js";
import { RBAC_GROUP } from "../../rbac/types.js";
import type { KindDef } from "../kind.js";
import type { Manifest } from "../types.js";
import { isObject } from "../validate.js";

/**
 * `rbac.authorization.k8s.io/v1` Role, ClusterRole, RoleBinding and ClusterRoleBinding, as
 * Kubernetes validates them (pkg/apis/rbac/validation). They have no spec and no status: `rules`,
 * `subjects` and `roleRef` sit at the top of the object. Who may do what with them is decided by
 * core/rbac; the Worker also refuses a role or binding that grants more than its writer holds.
 */

/** Kubernetes' ValidatePathSegmentName: RBAC names may hold `:` (system:discovery), never `/` or `%`. */
export function validateRbacName(name: unknown, field: string): FieldError[] {
  if (typeof name !== "string" || name === "") return [{ field, message: "is required" }];
  if (name === "." || name === ".." || /[/%]/.test(name) || name.length > 253) {
    return [{ field, message: `"${name}" is not a valid name: it may not be "." or "..", contain "/" or "%", or be longer than 253 characters` }];
  }
  return [];
}

const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");

function validateRules(obj: Manifest, cluster: boolean): FieldError[] {
  const rules = obj.rules;
  if (rules === undefined || rules === null) return [];
  if (!Array.isArray(rules)) return [{ field: "rules", message: "must be a list of PolicyRules" }];
  const errs: FieldError[] = [];
  rules.forEach((r, i) => {
    const f = `rules[${i}]`;
    if (!isObject(r)) return void errs.push({ field: f, message: "must be an object with verbs and resources or nonResourceURLs" });
    for (const k of ["verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs"]) {
      if (r[k] !== undefined && !strings(r[k])) errs.push({ field: `${f}.${k}`, message: "must be a list of strings" });
    }
    if (!strings(r.verbs) || (r.verbs as string[]).length === 0) errs.push({ field: `${f}.verbs`, message: 'must list at least one verb (get, list, watch, create, update, patch, delete, or "*")' });
    const hasRes = strings(r.resources) && (r.resources as string[]).length > 0;
    const hasUrl = strings(r.nonResourceURLs) && (r.nonResourceURLs as string[]).length > 0;
    if (hasUrl && !cluster) errs.push({ field: `${f}.nonResourceURLs`, message: "is only for ClusterRoles: a Role's rules name resources of its namespace" });
    if (hasUrl && hasRes) errs.push({ field: f, message: "names both resources and nonResourceURLs; a rule grants one or the other" });
    if (!hasUrl && !hasRes) errs.push({ field: f, message: "must name resources (with apiGroups) or, in a ClusterRole, nonResourceURLs" });
    if (hasRes && (!strings(r.apiGroups) || (r.apiGroups as string[]).length === 0)) {
      errs.push({ field: `${f}.apiGroups`, message: 'must list the resources\' API groups ("" is the core group of secrets and serviceaccounts)' });
    }
  });
  return errs;
}

function validateBinding(obj: Manifest, old: Record<string, unknown> | undefined, cluster: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = obj.roleRef;
  if (!isObject(ref)) errs.push({ field: "roleRef", message: "is required: {apiGroup: rbac.authorization.k8s.io, kind: Role or ClusterRole, name}" });
  else {
    if (ref.apiGroup !== RBAC_GROUP) errs.push({ field: "roleRef.apiGroup", message: `must be ${RBAC_GROUP}` });
    const kinds = cluster ? ["ClusterRole"] : ["Role", "ClusterRole"];
    if (!kinds.includes(String(ref.kind))) errs.push({ field: "roleRef.kind", message: `must be ${kinds.join(" or ")}, got ${JSON.stringify(ref.kind)}` });
    errs.push(...validateRbacName(ref.name, "roleRef.name"));
    if (old && JSON.stringify(old.roleRef) !== JSON.stringify(ref)) {
      errs.push({ field: "roleRef", message: "cannot change once the binding exists: delete the binding and create it again with the new roleRef" });
    }
  }
  const subjects = obj.subjects ?? [];
  if (!Array.isArray(subjects)) return [...errs, { field: "subjects", message: "must be a list of subjects" }];
  subjects.forEach((s, i) => {
    const f = `subjects[${i}]`;
    if (!isObject(s)) return void errs.push({ field: f, message: "must be an object with kind and name" });
    if (typeof s.name !== "string" || s.name === "") errs.push({ field: `${f}.name`, message: "is required" });
    if (s.kind === "ServiceAccount") {
      if (s.apiGroup !== undefined && s.apiGroup !== "") errs.push({ field: `${f}.apiGroup`, message: 'must be "" for a ServiceAccount' });
      if (cluster && (typeof s.namespace !== "string" || s.namespace === "")) errs.push({ field: `${f}.namespace`, message: "is required for a ServiceAccount in a ClusterRoleBinding" });
    } else if (s.kind === "User" || s.kind === "Group") {
      if (s.apiGroup !== RBAC_GROUP) errs.push({ field: `${f}.apiGroup`, message: `must be ${RBAC_GROUP} for a ${s.kind}` });
    } else errs.push({ field: `${f}.kind`, message: `must be ServiceAccount, User or Group, got ${JSON.stringify(s.kind)}` });
  });
  return errs;
}

/** Defaults as Kubernetes' API server sets them: User and Group subjects are in the RBAC group. */
function defaultSubjects(obj: Manifest): void {
  if (!Array.isArray(obj.subjects)) return;
  for (const s of obj.subjects) if (isObject(s) && (s.kind === "User" || s.kind === "Group") && s.apiGroup === undefined) s.apiGroup = RBAC_GROUP;
}

function builtinName(obj: Manifest, kind: "ClusterRole" | "ClusterRoleBinding"): FieldError[] {
  const name = obj.metadata?.name;
  return typeof name === "string" && isBuiltin(name, kind) ? [{ field: "metadata.name", message: `"${name}" is a built-in ${kind} of Eddy and cannot be written; choose another name` }] : [];
}

const base = { group: RBAC_GROUP, version: "v1", order: 2, validName: validateRbacName };

export const RoleKind: KindDef = {
  ...base, kind: "Role", plural: "roles", fields: ["rules"],
  defaults() {},
  validate: (obj) => validateRules(obj, false),
};

export const ClusterRoleKind: KindDef = {
  ...base, kind: "ClusterRole", plural: "clusterroles", clusterScoped: true, fields: ["rules", "aggregationRule"],
  defaults() {},
  validate: (obj) => [...builtinName(obj, "ClusterRole"), ...validateRules(obj, true), ...(obj.aggregationRule !== undefined ? [{ field: "aggregationRule", message: "is not supported by Eddy: list the rules in the ClusterRole itself" }] : [])],
};

export const RoleBindingKind: KindDef = {
  ...base, kind: "RoleBinding", plural: "rolebindings", fields: ["subjects", "roleRef"],
  defaults: defaultSubjects,
  validate: (obj, old) => validateBinding(obj, old, false),
};

export const ClusterRoleBindingKind: KindDef = {
  ...base, kind: "ClusterRoleBinding", plural: "clusterrolebindings", clusterScoped: true, fields: ["subjects", "roleRef"],
  defaults: defaultSubjects,
  validate: (obj, old) => [...builtinName(obj, "ClusterRoleBinding"), ...validateBinding(obj, old, true)],
};
