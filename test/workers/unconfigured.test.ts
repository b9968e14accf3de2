// No object writes anything before it is configured: a Broker, a source or a namespace asked about
// something that does not exist answers from nothing, and keeps no table.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Broker } from "../../durable-objects/broker.js";
import type { Namespace } from "../../durable-objects/namespace.js";
import type { Source } from "../../durable-objects/source.js";
import { apply, brokerObj, send, uid } from "./helpers.js";

const names = (state: DurableObjectState) => state.storage.sql.exec("SELECT name FROM sqlite_master").toArray().map((r) => String(r.name));

describe("objects that were never configured", () => {
  it("store nothing, whatever they are asked", async () => {
    const brokers = env.BROKER as unknown as DurableObjectNamespace<Broker>;
    const b = brokers.get(brokers.idFromName(`${uid("ns")}/ghost`));
    expect(await b.partitions()).toBeNull();
    expect(await b.stats()).toBeNull();
    expect(await b.publish([{ attrs: { specversion: "1.0", id: "x", source: "/s", type: "t" } }])).toMatchObject({ ok: false, status: 404 });
    expect(await b.deadLetterList()).toBeNull();
    await b.configure(null, 1);
    expect(await runInDurableObject(b, (_o, state) => names(state))).toEqual([]);

    const sources = env.SOURCE as unknown as DurableObjectNamespace<Source>;
    const s = sources.get(sources.idFromName(`WebhookSource/${uid("ns")}/ghost`));
    expect(await s.receive([["x-github-event", "push"]], new TextEncoder().encode("{}"))).toMatchObject({ ok: false, status: 404 });
    expect(await s.fire(Date.now())).toBe(false);
    expect(await runInDurableObject(s, (_o, state) => names(state))).toEqual([]);

    const namespaces = env.NAMESPACE as unknown as DurableObjectNamespace<Namespace>;
    const ns = namespaces.get(namespaces.idFromName(uid("ns")));
    expect(await ns.addresses()).toEqual([]);
    expect(await ns.rbac()).toEqual({ roles: [], bindings: [] });
    expect(await ns.secretValue("s", "k")).toBeUndefined();
    expect((await ns.get("x", { group: "eventing.knative.dev", version: "v1", plural: "brokers" }, "b")).ok).toBe(false);
    expect((await ns.list("x", { group: "eventing.knative.dev", version: "v1", plural: "brokers" })).ok).toBe(true);
    expect(await runInDurableObject(ns, (_o, state) => names(state))).toEqual([]);
  });

  it("create their tables with their first plan, and work as before", async () => {
    const name = uid("ns");
    await apply(brokerObj(name, "default"), "brokers");
    expect((await send(name, "default", { specversion: "1.0", id: "a", source: "/s", type: "t" })).status).toBe(202);
    const brokers = env.BROKER as unknown as DurableObjectNamespace<Broker>;
    expect((await runInDurableObject(brokers.get(brokers.idFromName(`${name}/default`)), (_o, state) => names(state))).length).toBeGreaterThan(0);
  });
});
