import { ApiError } from "../../core/errors.js";
import { BUILTIN_CLUSTER_ROLES } from "../../core/rbac/builtin.js";
import { uncovered } from "../../core/rbac/escalation.js";
import { type PolicyRule, RBAC_GROUP, SUPERUSER_GROUP } from "../../core/rbac/types.js";
import { isMap } from "../../core/kube/fieldset.js";
import { can, type C } from "./context.js";
import type { Target } from "./request.js";

/**
 * Kubernetes' escalation prevention, before a Role, ClusterRole or binding is stored: the writer
 * must hold every permission it grants (in the namespace, or everywhere for cluster-scoped ones),
 * unless RBAC gives it `escalate` on roles (for a role) or `bind` on the role named (for a binding).
 * Without this, anyone allowed to write Roles could give themselves anything.
 */
export async function guardEscalation(c: C, t: Target, body: unknown): Promise<void> {
  const kind = t.kind.kind;
  if (!["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"].includes(kind) || !isMap(body)) return;
  const access = c.get("access");
  if (access.user.groups.includes(SUPERUSER_GROUP)) return;
  const name = isMap(body.metadata) && typeof body.metadata.name === "string" ? body.metadata.name : "";
  let granted: PolicyRule[];
  let exempt: boolean;
  if (kind === "Role" || kind === "ClusterRole") {
    granted = Array.isArray(body.rules) ? (body.rules as PolicyRule[]) : [];
    exempt = await can(access, "escalate", RBAC_GROUP, kind === "Role" ? "roles" : "clusterroles", t.ns, name);
  } else {
    const ref = isMap(body.roleRef) ? body.roleRef : {};
    const world = await access.world(t.ns);
    const roles = ref.kind === "Role" ? world.roles : [...BUILTIN_CLUSTER_ROLES, ...world.clusterRoles];
    const role = roles.find((r) => r.name === ref.name);
    if (!role) return; // validation names the missing role's kind; a binding to nothing grants nothing
    granted = role.rules;
    exempt = await can(access, "bind", RBAC_GROUP, ref.kind === "Role" ? "roles" : "clusterroles", ref.kind === "Role" ? t.ns : "", String(ref.name));
  }
  if (exempt) return;
  const missing = uncovered(await access.rules(t.ns), granted);
  if (missing.length === 0) return;
  const subject = `${t.kind.plural}.${RBAC_GROUP}${name ? ` "${name}"` : ""}`;
  const list = missing.slice(0, 20).map((r) => JSON.stringify(r)).join(", ");
  throw new ApiError(403, `${subject} is forbidden: user "${access.user.username}" is attempting to grant RBAC permissions not currently held: ${list}${missing.length > 20 ? ` and ${missing.length - 20} more` : ""}`,
    [], { ...(name ? { name } : {}), group: RBAC_GROUP, kind: t.kind.plural }, {}, "Forbidden");
}
