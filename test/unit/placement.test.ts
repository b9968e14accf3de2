// Placement annotations (eddy.dev/jurisdiction, eddy.dev/location-hint): admission, status and plans.
// The stubs they lead to are tested inside workerd (test/workers/placement.test.ts).
import { describe, expect, it } from "vitest";
import { ApiError } from "../../core/errors.js";
import { physicalPlans } from "../../core/partitions.js";
import { admit } from "../../core/resources/admit.js";
import type { KindDef } from "../../core/resources/kind.js";
import { BrokerKind } from "../../core/resources/kinds/broker.js";
import { ChannelKind, InMemoryChannelKind } from "../../core/resources/kinds/channel.js";
import { TriggerKind } from "../../core/resources/kinds/trigger.js";
import { reconcileNamespace } from "../../core/resources/reconcile.js";
import { ADDRESSABLES } from "../../core/resources/registry.js";
import type { Resource } from "../../core/resources/types.js";

const ctx = { namespace: "demo", refs: ADDRESSABLES };
let n = 0;
const make = (kind: KindDef, body: unknown, old?: Resource): Resource =>
  admit({ body, kind, ctx, now: "2026-01-01T00:00:00Z", uid: `uid-${++n}`, resourceVersion: String(n), suffix: "abcde", ...(old ? { old } : {}) });
function causes(kind: KindDef, body: unknown, old?: Resource): { field: string; message: string }[] {
  try {
    make(kind, body, old);
  } catch (e) {
    expect((e as ApiError).status).toBe(422);
    return (e as ApiError).causes;
  }
  throw new Error("expected 422");
}
const meta = (kind: string, name: string, annotations?: Record<string, string>) => ({
  apiVersion: kind === "Broker" ? "eventing.knative.dev/v1" : "messaging.knative.dev/v1", kind, metadata: { name, ...(annotations ? { annotations } : {}) }, spec: {},
});
const EU = { "eddy.dev/jurisdiction": "eu", "eddy.dev/location-hint": "weur" };

describe("placement annotations", () => {
  it.each([[BrokerKind, "Broker"], [ChannelKind, "Channel"], [InMemoryChannelKind, "InMemoryChannel"]] as const)("%s: 422 for unknown values, naming the field and the allowed values", (kind, name) => {
    const c = causes(kind, meta(name, "x", { "eddy.dev/jurisdiction": "mars", "eddy.dev/location-hint": "moon" }));
    expect(c).toEqual([
      { field: "metadata.annotations.eddy.dev/jurisdiction", message: 'must be a Cloudflare jurisdiction: one of eu, fedramp, fedramp-high, us; got "mars"' },
      { field: "metadata.annotations.eddy.dev/location-hint", message: 'must be a Cloudflare location hint: one of wnam, enam, sam, weur, eeur, apac, oc, afr, me; got "moon"' },
    ]);
  });

  it("are immutable once the object exists: set, changed or removed", () => {
    const placed = make(BrokerKind, meta("Broker", "b", EU));
    const changed = causes(BrokerKind, meta("Broker", "b", { ...EU, "eddy.dev/jurisdiction": "us" }), placed);
    expect(changed).toEqual([{ field: "metadata.annotations.eddy.dev/jurisdiction", message: expect.stringMatching(/^is immutable: it is "eu" and cannot become "us"; .*Delete and recreate/) }]);
    expect(causes(BrokerKind, meta("Broker", "b", { "eddy.dev/jurisdiction": "eu" }), placed)[0]).toMatchObject({ field: "metadata.annotations.eddy.dev/location-hint", message: expect.stringContaining('it is "weur" and cannot become unset') });
    const plain = make(BrokerKind, meta("Broker", "p"));
    expect(causes(BrokerKind, meta("Broker", "p", { "eddy.dev/location-hint": "apac" }), plain)[0]!.message).toContain("it is unset and cannot become \"apac\"");
    // Unchanged: fine, as is any other change.
    expect(make(BrokerKind, { ...meta("Broker", "b", EU), spec: { delivery: { retry: 1 } } }, placed).metadata.annotations).toMatchObject(EU);
  });

  it("show in status and reach every partition's plan; targets that are placed owners name their object", () => {
    const b = make(BrokerKind, meta("Broker", "b", { ...EU, "eddy.dev/partitions": "3" }));
    const other = make(BrokerKind, meta("Broker", "other"));
    const imc = make(InMemoryChannelKind, meta("InMemoryChannel", "orders", { "eddy.dev/jurisdiction": "fedramp-high" }));
    const t = make(TriggerKind, { apiVersion: "eventing.knative.dev/v1", kind: "Trigger", metadata: { name: "t" }, spec: { broker: "other", subscriber: { ref: { apiVersion: "messaging.knative.dev/v1", kind: "InMemoryChannel", name: "orders" } }, delivery: { deadLetterSink: { ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "b" } } } } });
    const { plans } = reconcileNamespace([b, other, imc, t], "demo", "https://eddy.example", "2026-01-01T00:00:00Z");
    expect(b.status!.placement).toEqual({ jurisdiction: "eu", locationHint: "weur" });
    expect(imc.status!.placement).toEqual({ jurisdiction: "fedramp-high" });
    expect(other.status!.placement).toBeUndefined();
    expect(plans.get("BROKER:demo/other")!.options).not.toHaveProperty("placement");
    const parts = [...physicalPlans(plans)].filter(([k]) => k.startsWith("BROKER:demo/b"));
    expect(parts.map(([k, p]) => [k, p.options!.placement])).toEqual([0, 1, 2].map((i) => [`BROKER:demo/b${i ? `#${i}` : ""}`, { jurisdiction: "eu", locationHint: "weur" }]));
    const route = plans.get("BROKER:demo/other")!.routes[0]!;
    expect(route.subscriber.object).toEqual({ binding: "CHANNEL", name: "InMemoryChannel/demo/orders", placement: { jurisdiction: "fedramp-high" } });
    expect(route.deadLetter!.object).toEqual({ binding: "BROKER", name: "demo/b", placement: { jurisdiction: "eu", locationHint: "weur" } });
  });
});
