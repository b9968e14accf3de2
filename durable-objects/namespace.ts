import { DurableObject } from "cloudflare:workers";
import { ApiError } from "../core/errors.js";
import { ok, type Result } from "../core/result.js";
import { admit } from "../core/resources/admit.js";
import { apiVersionOf, type KindDef } from "../core/resources/kind.js";
import type { ReplayReport } from "../core/resources/plan.js";
import { ADDRESSABLES, kindByPath } from "../core/resources/registry.js";
import type { KReference, Resource } from "../core/resources/types.js";
import type { ObservedType } from "../core/resources/eventtypes.js";
import { rbacObjectsOf } from "../core/rbac/objects.js";
import type { BindingLike, RoleLike } from "../core/rbac/types.js";
import { PLACEABLE_KINDS, placementOf, type Placement } from "../core/placement.js";
import type { Env } from "./env.js";
import { PlanPusher, PUSHED_SCHEMA } from "./plan-pusher.js";
import { dropOwnedEventTypes, ensureEventTypes, eventTypeLimit, type ObjectWrites, type Observed } from "./owned.js";
import { refuseManaged } from "../core/requestreply/managed.js";
import { ChangeLog, type Changes, CHANGES_SCHEMA } from "./changes.js";
import { Sql } from "./sql.js";
import { SecretBox } from "./secret-box.js";
import { NamespaceReconciler } from "./namespace-reconcile.js";
import { keyOf, randomSuffix } from "./resource-keys.js";

declare module "./env.js" {
  interface Env {
    /** One object per namespace: its resources, their status, and the plans of its data-plane objects; one more, the cluster scope's, holds cluster-scoped kinds. */
    NAMESPACE: DurableObjectNamespace<Namespace>;
  }
}

/** Identifies a kind in the URL space: `/apis/{group}/{version}/namespaces/{ns}/{plural}`. */
export interface KindPath {
  group: string;
  version: string;
  plural: string;
}

const SCHEMA = [
  "CREATE TABLE resources (key TEXT PRIMARY KEY, body TEXT NOT NULL)",
  "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  ...PUSHED_SCHEMA,
];

/** Progress of jobs (Replays) as their data-plane objects report it, one row per partition. */
const REPORTS_SCHEMA = ["CREATE TABLE reports (uid TEXT NOT NULL, part INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (uid, part))"];

/**
 * The control plane of one namespace: it stores its resources, reconciles their status after every
 * write (whole namespace, so a Broker appearing makes its waiting Triggers ready), and hands each
 * data-plane Durable Object its plan. A plan that fails to arrive is sent again from the alarm.
 */
export class Namespace extends DurableObject<Env> {
  private readonly db: Sql;
  private readonly objects = new Map<string, Resource>();
  private rv: number;
  private begun = false;
  private readonly history: ChangeLog;
  private readonly pusher: PlanPusher;
  private readonly eventTypeLimit: number;
  private readonly secrets: SecretBox;
  private readonly reconciler: NamespaceReconciler;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = new Sql(ctx.storage.sql);
    for (const r of this.db.all<{ key: string; body: string }>("SELECT key, body FROM resources")) {
      this.objects.set(r.key, JSON.parse(r.body) as Resource);
    }
    this.rv = Number(this.meta("resourceVersion") ?? "0");
    // A namespace nobody has written to stores nothing (its schema comes with the first write).
    if (this.db.stored) this.begin();
    this.pusher = new PlanPusher(this.db, env, (at) => this.ctx.storage.setAlarm(at));
    this.history = new ChangeLog(this.db, () => Number(this.meta("changeFloor")), (rv) => this.setMeta("changeFloor", String(rv)), Number(env.WATCH_HISTORY) || undefined);
    this.eventTypeLimit = eventTypeLimit(env);
    this.secrets = new SecretBox(env);
    this.reconciler = new NamespaceReconciler({
      env, db: this.db, objects: this.objects, history: this.history, pusher: this.pusher, eventTypeLimit: this.eventTypeLimit, writes: (ns) => this.writes(ns),
      rv: () => this.rv, nextRv: () => this.nextRv(), setMeta: (k, v) => this.setMeta(k, v),
    });
  }

  /** `?dryRun=All` on a write: admission and status as the write would give them, nothing stored. */
  async create(ns: string, path: KindPath, body: unknown, baseUrl: string, dryRun = false): Promise<Result<Resource>> {
    return this.guard(async () => {
      const kind = this.kind(path);
      const name = (body as { metadata?: { name?: unknown } })?.metadata?.name;
      if (typeof name === "string" && this.objects.has(keyOf(apiVersionOf(kind), kind.kind, name))) {
        throw new ApiError(409, `${kind.plural} "${name}" already exists in namespace "${ns}"; use PUT to replace it`, [], { name, kind: kind.plural, group: kind.group });
      }
      const obj = admit({ body, kind, ctx: { namespace: ns, refs: ADDRESSABLES }, now: new Date().toISOString(), uid: crypto.randomUUID(), resourceVersion: this.upcomingRv(), suffix: randomSuffix() });
      if (this.objects.has(keyOf(obj.apiVersion, obj.kind, obj.metadata.name))) {
        throw new ApiError(409, `${kind.plural} "${obj.metadata.name}" already exists in namespace "${ns}"`, [], { name: obj.metadata.name, kind: kind.plural, group: kind.group });
      }
      if (dryRun) return this.preview(ns, obj, baseUrl);
      const sealed = kind.kind === "Secret" ? await this.secrets.seal(ns, obj, undefined) : obj;
      this.nextRv();
      return this.store(ns, sealed, baseUrl);
    });
  }

  async replace(ns: string, path: KindPath, name: string, body: unknown, baseUrl: string, dryRun = false): Promise<Result<{ object: Resource; created: boolean }>> {
    return this.guard(async () => {
      const kind = this.kind(path);
      const old = this.objects.get(keyOf(apiVersionOf(kind), kind.kind, name));
      if (old) refuseManaged(old, kind.plural);
      const wantRv = (body as { metadata?: { resourceVersion?: unknown } })?.metadata?.resourceVersion;
      if (old && wantRv !== undefined && wantRv !== "" && String(wantRv) !== old.metadata.resourceVersion) {
        throw new ApiError(409, `${kind.plural} "${name}" was changed since resourceVersion ${String(wantRv)} (now ${old.metadata.resourceVersion}); read it again and retry`, [], { name, kind: kind.plural }, {}, "Conflict");
      }
      const obj = admit({ body, kind, ctx: { namespace: ns, refs: ADDRESSABLES }, name, ...(old ? { old } : {}), now: new Date().toISOString(), uid: crypto.randomUUID(), resourceVersion: this.upcomingRv(), suffix: randomSuffix() });
      if (dryRun) return { object: this.preview(ns, obj, baseUrl), created: !old };
      const sealed = kind.kind === "Secret" ? await this.secrets.seal(ns, obj, old) : obj;
      this.nextRv();
      return { object: await this.store(ns, sealed, baseUrl), created: !old };
    });
  }

  async get(ns: string, path: KindPath, name: string): Promise<Result<Resource>> {
    return this.guard(async () => this.find(ns, this.kind(path), name));
  }

  async list(ns: string, path: KindPath): Promise<Result<{ items: Resource[]; resourceVersion: string }>> {
    return this.guard(async () => {
      const kind = this.kind(path);
      const items = [...this.objects.values()]
        .filter((r) => r.kind === kind.kind && r.apiVersion === apiVersionOf(kind))
        .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
      if (kind.kind === "Secret") await this.resealSecrets(ns, items);
      return { items, resourceVersion: String(this.rv) };
    });
  }

  /** Deletes an object; DeleteOptions' preconditions (uid, resourceVersion) answer 409 when they fail. */
  async remove(ns: string, path: KindPath, name: string, baseUrl: string, opts: { dryRun?: boolean; uid?: string; resourceVersion?: string } = {}): Promise<Result<Resource>> {
    return this.guard(async () => {
      const kind = this.kind(path);
      const obj = this.find(ns, kind, name);
      refuseManaged(obj, kind.plural);
      for (const f of ["uid", "resourceVersion"] as const) {
        if (opts[f] !== undefined && opts[f] !== obj.metadata[f]) {
          throw new ApiError(409, `the precondition on ${f} failed: ${kind.plural} "${name}" has ${f} ${obj.metadata[f]}, not ${opts[f]}; read it again before deleting`, [], { name, kind: kind.plural, group: kind.group }, {}, "Conflict");
        }
      }
      if (opts.dryRun) return obj;
      const key = keyOf(obj.apiVersion, obj.kind, name);
      this.objects.delete(key);
      this.db.run("DELETE FROM resources WHERE key = ?", key);
      dropOwnedEventTypes(this.writes(ns), obj);
      this.db.run("DELETE FROM reports WHERE uid = ?", obj.metadata.uid);
      const gone = { ...obj, metadata: { ...obj.metadata, resourceVersion: this.nextRv() } };
      this.history.record("DELETED", gone);
      await this.reconcile(ns, baseUrl);
      return gone;
    });
  }

  /**
   * The changes of one kind after `resourceVersion` (status changes included), waiting up to
   * `waitMs` for one; the Worker turns them into a watch stream. 410 when the version is older than
   * the change log keeps.
   */
  async changes(_ns: string, path: KindPath, resourceVersion: string, waitMs: number): Promise<Result<Changes>> {
    return this.guard(async () => {
      const kind = this.kind(path);
      return this.history.since(`${apiVersionOf(kind)}/${kind.kind}`, resourceVersion, Math.min(Math.max(waitMs, 0), 30_000), () => this.rv);
    });
  }

  /**
   * The data-plane objects this namespace has configured (`BINDING:key`, partitions included): the
   * Worker asks before it addresses one for an ingress request (functions/ingress/addresses.ts).
   */
  async addresses(): Promise<string[]> {
    return this.db.all<{ key: string }>("SELECT key FROM pushed WHERE hash != 'null'").map((r) => r.key);
  }

  /**
   * Creates the EventTypes of (type, source) pairs seen at an addressable, unless they exist.
   * Called by Brokers, Channels and sources the first time they see a pair.
   */
  async observeEventTypes(reference: KReference, types: ObservedType[]): Promise<Observed> {
    const ns = reference.namespace ?? this.meta("namespace") ?? "";
    const base = this.meta("baseUrl");
    this.begin();
    const observed = ensureEventTypes(this.writes(ns), reference, types, this.eventTypeLimit);
    if (observed.created > 0 && base) await this.reconcile(ns, base);
    return observed;
  }

  /** The Roles and RoleBindings of this namespace (the cluster scope's object: ClusterRoles and ClusterRoleBindings), for the API's authorizer. */
  async rbac(): Promise<{ roles: RoleLike[]; bindings: BindingLike[] }> {
    return rbacObjectsOf(this.objects.values());
  }

  /**
   * The value of `key` in Secret `name`, for a WebhookSource or a route that names it by
   * secretKeyRef; undefined when the Secret or the key does not exist.
   */
  async secretValue(name: string, key: string): Promise<string | undefined> {
    const obj = this.objects.get(keyOf("v1", "Secret", name));
    return obj ? this.secrets.value(this.meta("namespace") ?? obj.metadata.namespace, obj, key) : undefined;
  }

  /**
   * A partition of a Broker or Channel reports how far a Replay got; the Replay's status follows
   * (a new resourceVersion, seen by watchers). Reports of a Replay that no longer exists are ignored.
   */
  async replayProgress(ns: string, uid: string, report: ReplayReport): Promise<void> {
    if (![...this.objects.values()].some((r) => r.metadata.uid === uid)) return;
    this.db.run("INSERT OR REPLACE INTO reports (uid, part, body) VALUES (?, ?, ?)", uid, report.partition, JSON.stringify(report));
    const base = this.meta("baseUrl");
    if (base) await this.reconcile(ns, base);
  }

  /**
   * Where the objects of a Broker, Channel or InMemoryChannel are placed (its `eddy.dev/jurisdiction`
   * and `eddy.dev/location-hint`); null when there is no such object. The Worker asks before it
   * addresses them (functions/placement.ts), as an object's id depends on its jurisdiction.
   */
  async placement(kind: string, name: string): Promise<Placement | null> {
    const r = [...this.objects.values()].find((o) => o.kind === kind && o.metadata.name === name && PLACEABLE_KINDS.includes(o.kind));
    return r ? placementOf(r.metadata.annotations) : null;
  }

  override async alarm(): Promise<void> {
    const ns = this.meta("namespace");
    const base = this.meta("baseUrl");
    if (ns && base) await this.reconcile(ns, base);
  }

  // --- internals -------------------------------------------------------------------------------

  /** The schema, before the first write (and at every start of a namespace that holds something). */
  private begin(): void {
    if (this.begun) return;
    this.begun = true;
    this.db.migrate([SCHEMA, CHANGES_SCHEMA, REPORTS_SCHEMA]);
    // A namespace older than its change log can be watched only from now on.
    if (this.meta("changeFloor") === undefined) this.setMeta("changeFloor", String(this.rv));
  }

  /** Secrets sealed with the previous EDDY_SECRETS_KEY are sealed again under the current one (a rotation, docs/security.md). */
  private async resealSecrets(ns: string, items: Resource[]): Promise<void> {
    for (const [i, obj] of items.entries()) {
      const fresh = await this.secrets.reseal(ns, obj);
      if (!fresh) continue;
      const key = keyOf(obj.apiVersion, obj.kind, obj.metadata.name);
      if (this.objects.get(key) !== obj) continue; // written meanwhile, under the current key
      this.objects.set(key, fresh);
      this.db.run("INSERT OR REPLACE INTO resources (key, body) VALUES (?, ?)", key, JSON.stringify(fresh));
      items[i] = fresh;
    }
  }

  /** What owned.ts may do to this namespace's objects: every write a resourceVersion and a change-log entry. */
  private writes(ns: string): ObjectWrites {
    return {
      objects: this.objects,
      key: keyOf,
      admit: (kind, body, old) => admit({ body, kind, ctx: { namespace: ns, refs: ADDRESSABLES }, ...(old ? { old, name: old.metadata.name } : {}), now: new Date().toISOString(), uid: crypto.randomUUID(), resourceVersion: this.upcomingRv(), suffix: randomSuffix() }),
      put: (obj) => {
        const key = keyOf(obj.apiVersion, obj.kind, obj.metadata.name);
        const type = this.objects.has(key) ? "MODIFIED" : "ADDED";
        obj.metadata.resourceVersion = this.nextRv();
        this.objects.set(key, obj);
        this.db.run("INSERT OR REPLACE INTO resources (key, body) VALUES (?, ?)", key, JSON.stringify(obj));
        this.history.record(type, obj);
      },
      remove: (obj) => {
        const key = keyOf(obj.apiVersion, obj.kind, obj.metadata.name);
        this.objects.delete(key);
        this.db.run("DELETE FROM resources WHERE key = ?", key);
        this.history.record("DELETED", { ...obj, metadata: { ...obj.metadata, resourceVersion: this.nextRv() } });
      },
    };
  }

  private kind(path: KindPath): KindDef {
    const k = kindByPath(path.group, path.version, path.plural);
    if (!k) throw new ApiError(404, `the server does not serve ${path.plural} in ${path.group}/${path.version}`);
    return k;
  }

  private find(ns: string, kind: KindDef, name: string): Resource {
    const obj = this.objects.get(keyOf(apiVersionOf(kind), kind.kind, name));
    if (!obj) throw new ApiError(404, `${kind.plural} "${name}" not found${ns ? ` in namespace "${ns}"` : ""}`, [], { name, kind: kind.plural, group: kind.group });
    return obj;
  }

  private async store(ns: string, obj: Resource, baseUrl: string): Promise<Resource> {
    this.begin();
    const key = keyOf(obj.apiVersion, obj.kind, obj.metadata.name);
    const type = this.objects.has(key) ? "MODIFIED" : "ADDED";
    this.objects.set(key, obj);
    this.db.run("INSERT OR REPLACE INTO resources (key, body) VALUES (?, ?)", key, JSON.stringify(obj));
    this.history.record(type, obj);
    await this.reconcile(ns, baseUrl);
    return this.objects.get(key)!;
  }

  private preview(ns: string, obj: Resource, baseUrl: string): Resource {
    return this.reconciler.preview(ns, obj, baseUrl);
  }

  private reconcile(ns: string, baseUrl: string): Promise<void> {
    return this.reconciler.run(ns, baseUrl);
  }

  /** Runs an API call: its value, or its ApiError as the failure it crosses the RPC boundary as. */
  private async guard<T>(fn: () => Promise<T>): Promise<Result<T>> {
    try {
      return ok(await fn());
    } catch (e) {
      if (e instanceof ApiError) return e.toFailure();
      throw e;
    }
  }

  /** The resourceVersion the next stored write gets; a refused write must not move it (nor persist it). */
  private upcomingRv(): string {
    return String(this.rv + 1);
  }

  private nextRv(): string {
    this.rv += 1;
    this.setMeta("resourceVersion", String(this.rv));
    return String(this.rv);
  }

  private meta(key: string): string | undefined {
    return this.db.one<{ value: string }>("SELECT value FROM meta WHERE key = ?", key)?.value;
  }

  private setMeta(key: string, value: string): void {
    this.begin();
    this.db.run("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }
}
