import { DurableObject } from "cloudflare:workers";
import type { Env } from "./env.js";
import { Sql } from "./sql.js";

declare module "./env.js" {
  interface Env {
    /** The namespaces in use (one instance, "global"), for `kubectl get namespaces` and `-A`. */
    DIRECTORY: DurableObjectNamespace<Directory>;
  }
}

/** A namespace as `/api/v1/namespaces` shows it. */
export interface NamespaceEntry {
  name: string;
  uid: string;
  created: string;
}

/**
 * The list of namespaces in use (one global instance). Each namespace is its own Durable Object,
 * and Durable Objects cannot be enumerated, so the API records a namespace here when its first
 * object is created (or on `kubectl create namespace`); `kubectl get namespaces` and lists across
 * namespaces (`-A`) read it.
 */
export class Directory extends DurableObject<Env> {
  private readonly db: Sql;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = new Sql(ctx.storage.sql);
    if (this.db.stored) this.begin();
  }

  /** The schema: before the first namespace is recorded, the directory stores nothing (it is asked for every unknown ingress namespace). */
  private begin(): void {
    this.db.migrate([["CREATE TABLE namespaces (name TEXT PRIMARY KEY, uid TEXT NOT NULL, created TEXT NOT NULL)"]]);
  }

  /** Records a namespace; true when it was not listed yet. */
  async add(name: string): Promise<boolean> {
    this.begin();
    return this.db.run("INSERT OR IGNORE INTO namespaces (name, uid, created) VALUES (?, ?, ?)", name, crypto.randomUUID(), new Date().toISOString().replace(/\.\d+Z$/, "Z")) > 0;
  }

  async get(name: string): Promise<NamespaceEntry | undefined> {
    return this.db.one<NamespaceEntry>("SELECT name, uid, created FROM namespaces WHERE name = ?", name);
  }

  async list(): Promise<NamespaceEntry[]> {
    return this.db.all<NamespaceEntry>("SELECT name, uid, created FROM namespaces ORDER BY name");
  }

  async remove(name: string): Promise<boolean> {
    if (!this.db.stored) return false;
    return this.db.run("DELETE FROM namespaces WHERE name = ?", name) > 0;
  }
}
