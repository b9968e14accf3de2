import type { FieldError } from "../errors.js";
import type { AuthSettings } from "../identity/settings.js";
import type { RefTargets } from "./validate.js";
import type { Destination, Manifest, Resource, Status } from "./types.js";
import type { DispatcherPlan, PlanKey, ReplayReport, Target } from "./plan.js";

/** What admission (defaulting and validation) of one object may look at. */
export interface AdmissionContext {
  namespace: string;
  refs: RefTargets;
}

/** What reconciling one object may look at and produce. */
export interface ReconcileContext {
  namespace: string;
  /** Public base URL of this deployment, e.g. `https://eddy.example.workers.dev`. */
  baseUrl: string;
  now: string;
  /** AUTHENTICATION_OIDC and DEFAULT_AUTHORIZATION_MODE, for identities, audiences and policy conditions. */
  auth: AuthSettings;
  find(apiVersion: string, kind: string, name: string): Resource | undefined;
  list(apiVersion: string, kind: string): Resource[];
  /** Whether this system serves the kind at all (a reference to any other kind never resolves). */
  serves(apiVersion: string, kind: string): boolean;
  /** The ingress URL of an addressable resource of this system. */
  addressOf(r: Resource): string | undefined;
  /** A Destination to a concrete target, or the reason it cannot be resolved yet. */
  resolve(dest: Destination | undefined): { target?: Target; error?: string };
  /** The plan a data-plane object will receive; created by its owner, extended by its routes. */
  plan(key: PlanKey): DispatcherPlan | undefined;
  /** Whether a wrangler secret / .dev.vars entry of this name is set (sources name their secrets). */
  hasSecret(name: string): boolean;
  setPlan(key: PlanKey, plan: DispatcherPlan): void;
  /** What the data plane reported about a job (a Replay) by uid, one report per partition. */
  progress(uid: string): ReplayReport[];
}

/**
 * One resource kind served by the control-plane API: its place in the URL space, how it is
 * defaulted and validated at admission, and how its status is computed.
 */
export interface KindDef {
  group: string;
  version: string;
  kind: string;
  plural: string;
  /** Reconcile order: lower first (owners before the routes that attach to them). */
  order: number;
  /** Stored in the cluster scope rather than a namespace (ClusterRole, ClusterRoleBinding). */
  clusterScoped?: boolean;
  /**
   * Kubernetes' built-in shape: these top-level fields are the object's content, and it has no spec
   * and no status (a Role's `rules`, a binding's `subjects` and `roleRef`, a Secret's `data`).
   */
  fields?: readonly string[];
  /** The rule names of this kind follow when it is not a DNS-1123 label (RBAC and Secret names). */
  validName?(name: unknown, field: string): FieldError[];
  /** The ingress path for addressable kinds. */
  addressPath?(namespace: string, name: string): string;
  /** Whether a `ref` to this object resolves; Ready by default (a RequestReply's own Triggers point at it before it is Ready). */
  refReady?(obj: Resource): boolean;
  /** The data-plane object behind an addressable, for its `/stats` subresource. */
  dataPlane?(namespace: string, name: string): PlanKey;
  /**
   * Spec fields the server writes, as Knative's controllers do (a channel's `spec.subscribers`).
   * Admission keeps the stored value: a client may leave such a field out or send it back as read,
   * and gets 422 for any other value. Maps each field to what to do instead, for that message.
   */
  serverOwnedSpec?: Readonly<Record<string, string>>;
  /** The server-owned spec fields computed from the namespace (a field left out is removed); runs before `reconcile`. */
  deriveSpec?(obj: Resource, ctx: ReconcileContext): Record<string, unknown>;
  defaults(obj: Manifest, ctx: AdmissionContext): void;
  validate(obj: Manifest, old: Resource | undefined, ctx: AdmissionContext): FieldError[];
  /** The status; kinds without one (`fields` kinds, ServiceAccount) have none to compute. */
  reconcile?(obj: Resource, ctx: ReconcileContext): Status;
}

export function apiVersionOf(k: Pick<KindDef, "group" | "version">): string {
  return k.group ? `${k.group}/${k.version}` : k.version;
}
