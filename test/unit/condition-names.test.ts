// Condition types by Knative's names (pkg/apis/**/…_lifecycle.go), for the conditions Eddy reports.
import { describe, expect, it } from "vitest";
import { admit } from "../../core/resources/admit.js";
import type { KindDef } from "../../core/resources/kind.js";
import { InMemoryChannelKind } from "../../core/resources/kinds/channel.js";
import { SubscriptionKind } from "../../core/resources/kinds/subscription.js";
import { reconcileNamespace } from "../../core/resources/reconcile.js";
import { ADDRESSABLES } from "../../core/resources/registry.js";
import type { Resource } from "../../core/resources/types.js";

const M = "messaging.knative.dev/v1";
let n = 0;
function make(kind: KindDef, body: unknown): Resource {
  n += 1;
  return admit({ body, kind, ctx: { namespace: "demo", refs: ADDRESSABLES }, now: "2026-01-01T00:00:00Z", uid: `uid-${n}`, resourceVersion: String(n), suffix: "abcde" });
}
const sub = (subscriber: Record<string, unknown>) => ({ apiVersion: M, kind: "Subscription", metadata: { name: "s" }, spec: { channel: { apiVersion: M, kind: "InMemoryChannel", name: "c" }, subscriber } });
const conds = (r: Resource) => Object.fromEntries(r.status!.conditions!.map((c) => [c.type, c.status]));

describe("Subscription conditions", () => {
  it("are ChannelReady, ReferencesResolved and AddedToChannel, as Knative's SubCondSet names them", () => {
    const s = make(SubscriptionKind, sub({ uri: "http://127.0.0.1:9/" }));
    reconcileNamespace([make(InMemoryChannelKind, { apiVersion: M, kind: "InMemoryChannel", metadata: { name: "c" } }), s], "demo", "https://eddy.example", "2026-01-01T00:00:00Z");
    expect(conds(s)).toMatchObject({ ChannelReady: "True", ReferencesResolved: "True", AddedToChannel: "True", Ready: "True" });
    expect(conds(s)).not.toHaveProperty("Resolved");
  });

  it("a subscriber that does not resolve: ReferencesResolved False with the reason, AddedToChannel Unknown, Ready False", () => {
    const s = make(SubscriptionKind, sub({ ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "gone" } }));
    reconcileNamespace([make(InMemoryChannelKind, { apiVersion: M, kind: "InMemoryChannel", metadata: { name: "c" } }), s], "demo", "https://eddy.example", "2026-01-01T00:00:00Z");
    expect(conds(s)).toMatchObject({ ChannelReady: "True", ReferencesResolved: "False", AddedToChannel: "Unknown", Ready: "False" });
    expect(s.status!.conditions!.find((c) => c.type === "Ready")).toMatchObject({ reason: "DestinationResolveFailed", message: expect.stringContaining('Broker "gone"') });
  });

  it("without its channel: ChannelReady False (ChannelDoesNotExist) decides Ready", () => {
    const s = make(SubscriptionKind, sub({ uri: "http://127.0.0.1:9/" }));
    reconcileNamespace([s], "demo", "https://eddy.example", "2026-01-01T00:00:00Z");
    expect(conds(s)).toMatchObject({ ChannelReady: "False", AddedToChannel: "Unknown", Ready: "False" });
    expect(s.status!.conditions!.find((c) => c.type === "Ready")!.reason).toBe("ChannelDoesNotExist");
  });
});
