// Knative's new-trigger-filters conformance examples, end to end with real subscribers.
import { afterAll, describe, expect, inject, it } from "vitest";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders, post } from "../support/emit.js";
import { startSink, type Sink } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const sinks: Sink[] = [];
afterAll(() => Promise.all(sinks.map((s) => s.close())));

/** A Broker with one Trigger per filter spec; sends the events; returns the ids each Trigger got. */
async function route(filters: Record<string, Record<string, unknown>>, events: Record<string, string>[], body = "{}", ct = "application/json") {
  const ns = uniqueNs("flt");
  const url = (await api.apply(broker(ns, "default"))).status.address.url;
  const got: Record<string, Sink> = {};
  for (const [name, spec] of Object.entries(filters)) {
    const s = await startSink();
    sinks.push(s);
    got[name] = s;
    await api.apply(trigger(ns, name, "default", s.url, spec));
  }
  for (const name of Object.keys(filters)) await api.waitReady("eventing.knative.dev/v1", "Trigger", ns, name);
  for (const [i, e] of events.entries()) {
    const r = await post(url, binaryHeaders({ specversion: "1.0", id: e.id ?? `e${i}`, source: "/filters", ...e }, ct), body);
    expect(r.status).toBe(202);
  }
  // Every event either reaches a sink or is dropped as unmatched; wait until all are accounted for.
  await expect.poll(async () => {
    const s = (await api.call("GET", `/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers/default/stats`)).body;
    return (s.counters.delivered ?? 0) + (s.counters["dropped.no-matching-trigger"] ?? 0) >= events.length && s.pending === 0;
  }).toBe(true);
  const out: Record<string, string[]> = {};
  for (const [name, s] of Object.entries(got)) out[name] = (await s.settle(200)).map((r) => r.headers["ce-type"]!).sort();
  return out;
}

const types = (...t: string[]) => t.map((type) => ({ type }));

describe("new trigger filters (Knative conformance examples)", () => {
  it("exact on type and source", async () => {
    const r = await route({ t: { filters: [{ exact: { type: "exact.type", source: "/filters" } }] } }, [
      { type: "exact.type" }, { type: "wrong.type" }, { type: "exact.type", source: "/other", id: "x" },
    ]);
    expect(r.t).toEqual(["exact.type"]);
  });

  it("prefix and suffix", async () => {
    const r = await route({
      p: { filters: [{ prefix: { type: "pref", source: "/fil" } }] },
      s: { filters: [{ suffix: { type: ".suffix", source: "ters" } }] },
    }, types("prefix.event", "event.suffix", "other"));
    expect(r.p).toEqual(["prefix.event"]);
    expect(r.s).toEqual(["event.suffix"]);
  });

  it("cesql on type and source", async () => {
    const r = await route({ t: { filters: [{ cesql: "type = 'cesql.type' AND source = '/filters'" }] } }, types("cesql.type", "other.type"));
    expect(r.t).toEqual(["cesql.type"]);
  });

  it("all, and the same list as implicit all", async () => {
    const list = [{ exact: { type: "exact.prefix.suffix.event.type" } }, { prefix: { type: "exact.prefix" } }, { suffix: { type: "suffix.event.type" } }, { cesql: "type LIKE 'exact.prefix.suffix%'" }];
    const r = await route({ all: { filters: [{ all: list }] }, implicit: { filters: list } },
      types("exact.prefix.suffix.event.type", "exact.prefix.event.type", "prefix.suffix.event.type"));
    expect(r.all).toEqual(["exact.prefix.suffix.event.type"]);
    expect(r.implicit).toEqual(["exact.prefix.suffix.event.type"]);
  });

  it("any with not", async () => {
    const r = await route({ t: { filters: [{ any: [
      { exact: { type: "exact.event.type" } }, { prefix: { type: "prefix" } }, { suffix: { type: "suffix" } },
      { not: { cesql: "type LIKE '%event.type%'" } }, { cesql: "type = 'cesql.event.type'" },
    ] }] } }, types("exact.event.type", "prefix.event.type", "event.type.suffix", "not.type.event", "cesql.event.type", "not.event.type"));
    expect(r.t).toEqual(["cesql.event.type", "event.type.suffix", "exact.event.type", "not.type.event", "prefix.event.type"]);
  });

  it("any of three exact types", async () => {
    const r = await route({ t: { filters: [{ any: [
      { exact: { type: "dev.knative.apiserver.resource.update" } }, { exact: { type: "dev.knative.apiserver.resource.add" } }, { exact: { type: "dev.knative.apiserver.resource.delete" } },
    ] }] } }, types("dev.knative.apiserver.resource.update", "dev.knative.apiserver.resource.add", "dev.knative.apiserver.resource.delete", "prefix.event.type"));
    expect(r.t).toEqual(["dev.knative.apiserver.resource.add", "dev.knative.apiserver.resource.delete", "dev.knative.apiserver.resource.update"]);
  });

  it("two Triggers with overlapping any filters", async () => {
    const r = await route({
      one: { filters: [{ any: [{ exact: { type: "type1" } }, { exact: { type: "both.should.match" } }] }] },
      two: { filters: [{ any: [{ exact: { type: "type2" } }, { exact: { type: "both.should.match" } }] }] },
    }, types("both.should.match", "type1", "type2", "type3"));
    expect(r.one).toEqual(["both.should.match", "type1"]);
    expect(r.two).toEqual(["both.should.match", "type2"]);
  });

  it("filters on an extension; an event without it is not delivered", async () => {
    const r = await route({ t: { filters: [{ all: [
      { exact: { extensionattribute: "extensionvalue" } }, { prefix: { extensionattribute: "extension" } },
      { suffix: { extensionattribute: "value" } }, { cesql: "extensionattribute = 'extensionvalue'" },
    ] }] } }, [{ type: "without" }, { type: "with", extensionattribute: "extensionvalue" }]);
    expect(r.t).toEqual(["with"]);
  });

  it("filters: [] falls back to the legacy filter; non-empty filters override it", async () => {
    const r = await route({
      legacy: { filter: { attributes: { type: "legacy.type" } }, filters: [] },
      overridden: { filter: { attributes: { type: "legacy.type" } }, filters: [{ exact: { type: "new.type" } }] },
    }, types("legacy.type", "new.type"));
    expect(r.legacy).toEqual(["legacy.type"]);
    expect(r.overridden).toEqual(["new.type"]);
  });

  it("beyond Knative: cesql on the event's JSON data", async () => {
    const ns = uniqueNs("data");
    const url = (await api.apply(broker(ns, "default"))).status.address.url;
    const gold = await startSink();
    sinks.push(gold);
    await api.apply(trigger(ns, "gold", "default", gold.url, { filters: [{ cesql: "data.customer.tier = 'gold' AND data.total > 100" }] }));
    await api.waitReady("eventing.knative.dev/v1", "Trigger", ns, "gold");
    const send = (id: string, data: unknown) => post(url, binaryHeaders({ specversion: "1.0", id, source: "/d", type: "order" }), JSON.stringify(data));
    await send("big-gold", { total: 150, customer: { tier: "gold" } });
    await send("small-gold", { total: 50, customer: { tier: "gold" } });
    await send("big-silver", { total: 150, customer: { tier: "silver" } });
    await gold.waitFor(1);
    expect((await gold.settle(500)).map((r) => r.headers["ce-id"])).toEqual(["big-gold"]);
  });

  it("refuses invalid filters at admission with 422 naming the field", async () => {
    const ns = uniqueNs("bad");
    const r = await api.call("PUT", `/apis/eventing.knative.dev/v1/namespaces/${ns}/triggers/t`,
      trigger(ns, "t", "default", "http://127.0.0.1:9/", { filters: [{ exact: { type: "" } }, { cesql: "type = " }] }));
    expect(r.status).toBe(422);
    expect(r.body.details.causes.map((c: { field: string }) => c.field)).toEqual(["spec.filters[0].exact.type", "spec.filters[1].cesql"]);
    expect(r.body.details.causes[1].message).toMatch(/position 7/);
  });
});
