// Sequence and Parallel status in Knative's shape (pkg/apis/flows/v1/sequence_types.go,
// parallel_types.go): field names, and `ready` entries that are full apis.Conditions.
import { describe, expect, it } from "vitest";
import { admit } from "../../core/resources/admit.js";
import type { KindDef } from "../../core/resources/kind.js";
import { ParallelKind, SequenceKind } from "../../core/resources/kinds/flows.js";
import { reconcileNamespace } from "../../core/resources/reconcile.js";
import { ADDRESSABLES } from "../../core/resources/registry.js";
import type { Resource } from "../../core/resources/types.js";

let n = 0;
function make(kind: KindDef, body: unknown): Resource {
  n += 1;
  return admit({ body, kind, ctx: { namespace: "demo", refs: ADDRESSABLES }, now: "2026-01-01T00:00:00Z", uid: `uid-${n}`, resourceVersion: String(n), suffix: "abcde" });
}
const at = (t: string) => `2026-01-01T00:00:0${t}Z`;
const reconcile = (r: Resource, now: string) => reconcileNamespace([r], "demo", "https://eddy.example", now);
const readyTrue = (time: string) => ({ type: "Ready", status: "True", lastTransitionTime: time });
const channel = (name: string) => ({ apiVersion: "messaging.knative.dev/v1", kind: "InMemoryChannel", name, namespace: "demo" });
const subscription = (name: string) => ({ apiVersion: "messaging.knative.dev/v1", kind: "Subscription", name, namespace: "demo" });

describe("Sequence status", () => {
  it("channelStatuses and subscriptionStatuses carry full Ready conditions that keep their lastTransitionTime", () => {
    const s = make(SequenceKind, { metadata: { name: "seq" }, spec: { steps: [{ uri: "http://a.example/" }, { uri: "http://b.example/" }] } });
    reconcile(s, at("1"));
    expect(s.status!.channelStatuses).toEqual([
      { channel: channel("seq-kn-sequence-0"), address: { url: "https://eddy.example/sequences/demo/seq" }, ready: readyTrue(at("1")) },
      { channel: channel("seq-kn-sequence-1"), address: { url: "https://eddy.example/sequences/demo/seq/steps/1" }, ready: readyTrue(at("1")) },
    ]);
    expect(s.status!.subscriptionStatuses).toEqual([
      { subscription: subscription("seq-kn-sequence-0"), ready: readyTrue(at("1")) },
      { subscription: subscription("seq-kn-sequence-1"), ready: readyTrue(at("1")) },
    ]);
    expect(reconcile(s, at("2")).changed).toEqual([]);
    expect((s.status!.subscriptionStatuses as { ready: { lastTransitionTime: string } }[])[0]!.ready.lastTransitionTime).toBe(at("1"));
  });

  it("a subscription that cannot be ready says why, with reason and message", () => {
    const s = make(SequenceKind, { metadata: { name: "seq" }, spec: { steps: [{ ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "gone" } }] } });
    reconcile(s, at("3"));
    expect((s.status!.subscriptionStatuses as unknown[])[0]).toEqual({
      subscription: subscription("seq-kn-sequence-0"),
      ready: { type: "Ready", status: "False", reason: "DestinationResolveFailed", message: 'step 0: Broker "gone" does not exist', lastTransitionTime: at("3") },
    });
  });
});

describe("Parallel status", () => {
  it("branchStatuses use Knative's names, subscriberSubscriptionStatus included, with full Ready conditions", () => {
    const p = make(ParallelKind, { metadata: { name: "par" }, spec: { branches: [{ filter: { uri: "http://f.example/" }, subscriber: { uri: "http://s.example/" } }] } });
    reconcile(p, at("4"));
    expect(p.status!.ingressChannelStatus).toEqual({ channel: channel("par-kn-parallel"), ready: readyTrue(at("4")) });
    expect(p.status!.branchStatuses).toEqual([{
      filterSubscriptionStatus: { subscription: subscription("par-kn-parallel-filter-0"), ready: readyTrue(at("4")) },
      filterChannelStatus: { channel: channel("par-kn-parallel-0"), ready: readyTrue(at("4")) },
      subscriberSubscriptionStatus: { subscription: subscription("par-kn-parallel-0"), ready: readyTrue(at("4")) },
    }]);
  });

  it("an unresolvable branch subscriber makes the branch subscriptions not ready, with the reason, from the time it happened", () => {
    const p = make(ParallelKind, { metadata: { name: "par" }, spec: { branches: [{ subscriber: { uri: "http://s.example/" } }] } });
    reconcile(p, at("5"));
    p.spec!.branches = [{ subscriber: { ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "gone" } } }];
    reconcile(p, at("6"));
    const [branch] = p.status!.branchStatuses as Record<string, { ready: Record<string, string> }>[];
    expect(branch!.subscriberSubscriptionStatus!.ready).toEqual({
      type: "Ready", status: "False", reason: "DestinationResolveFailed", message: 'branch 0 subscriber: Broker "gone" does not exist', lastTransitionTime: at("6"),
    });
    expect(branch!.filterChannelStatus!.ready).toEqual(readyTrue(at("5")));
  });
});

describe("flows: conditions and channelTemplate as in Knative", () => {
  it("report an Addressable condition, as Knative's sequence and parallel condition sets have", () => {
    const s = make(SequenceKind, { metadata: { name: "seq" }, spec: { steps: [{ uri: "http://a.example/" }] } });
    const p = make(ParallelKind, { metadata: { name: "par" }, spec: { branches: [{ subscriber: { uri: "http://s.example/" } }] } });
    for (const r of [s, p]) {
      reconcile(r, at("7"));
      expect(r.status!.conditions!.map((c) => c.type)).toEqual(expect.arrayContaining(["Addressable", "ChannelsReady", "SubscriptionsReady", "Ready"]));
      expect(r.status!.conditions!.find((c) => c.type === "Addressable")!.status).toBe("True");
    }
  });

  it("default spec.channelTemplate to InMemoryChannel (config-default-channel), and name internal channels after the template's kind", () => {
    const s = make(SequenceKind, { metadata: { name: "seq" }, spec: { steps: [{ uri: "http://a.example/" }] } });
    expect(s.spec!.channelTemplate).toEqual({ apiVersion: "messaging.knative.dev/v1", kind: "InMemoryChannel" });
    const kafka = { apiVersion: "messaging.knative.dev/v1beta1", kind: "KafkaChannel" };
    const p = make(ParallelKind, { metadata: { name: "par" }, spec: { channelTemplate: kafka, branches: [{ subscriber: { uri: "http://s.example/" } }] } });
    expect(p.spec!.channelTemplate).toEqual(kafka);
    reconcile(p, at("8"));
    expect((p.status!.ingressChannelStatus as { channel: unknown }).channel).toEqual({ ...kafka, name: "par-kn-parallel", namespace: "demo" });
  });

  it("refuse a channelTemplate without apiVersion and kind with 422 naming it", () => {
    for (const [kind, spec] of [
      [SequenceKind, { steps: [{ uri: "http://a.example/" }], channelTemplate: { kind: "InMemoryChannel" } }],
      [ParallelKind, { branches: [{ subscriber: { uri: "http://s.example/" } }], channelTemplate: "imc" }],
    ] as const) {
      let err: { status: number; causes: { field: string }[] } | undefined;
      try {
        make(kind, { metadata: { name: "bad" }, spec });
      } catch (e) {
        err = e as typeof err;
      }
      expect(err?.status).toBe(422);
      expect(err?.causes.map((c) => c.field)).toEqual(["spec.channelTemplate"]);
    }
  });
});
