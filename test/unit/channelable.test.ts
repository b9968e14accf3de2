// The Channelable duck type on Channel and InMemoryChannel, as rekt's channel control-plane
// conformance (test/rekt/features/channel/control_plane.go) reads it.
import { describe, expect, it } from "vitest";
import { admit } from "../../core/resources/admit.js";
import type { ApiError } from "../../core/errors.js";
import type { KindDef } from "../../core/resources/kind.js";
import { ChannelKind, InMemoryChannelKind } from "../../core/resources/kinds/channel.js";
import { SubscriptionKind } from "../../core/resources/kinds/subscription.js";
import { reconcileNamespace } from "../../core/resources/reconcile.js";
import { ADDRESSABLES } from "../../core/resources/registry.js";
import type { Resource } from "../../core/resources/types.js";

const M = "messaging.knative.dev/v1";
let n = 0;
function make(kind: KindDef, body: unknown, old?: Resource): Resource {
  n += 1;
  return admit({ body, kind, ctx: { namespace: "demo", refs: ADDRESSABLES }, name: (body as { metadata: { name: string } }).metadata.name, now: "2026-01-01T00:00:00Z", uid: `uid-${n}`, resourceVersion: String(n), suffix: "abcde", ...(old ? { old } : {}) });
}
function refused(kind: KindDef, body: unknown, old?: Resource): ApiError {
  try {
    make(kind, body, old);
  } catch (e) {
    return e as ApiError;
  }
  throw new Error("expected admission to refuse");
}
const imc = (spec: Record<string, unknown> = {}, annotations?: Record<string, string>) =>
  ({ apiVersion: M, kind: "InMemoryChannel", metadata: { name: "c", ...(annotations ? { annotations } : {}) }, spec });
const sub = (name: string, spec: Record<string, unknown>, channelKind = "InMemoryChannel") =>
  ({ apiVersion: M, kind: "Subscription", metadata: { name }, spec: { channel: { apiVersion: M, kind: channelKind, name: "c" }, ...spec } });
const reconcile = (...rs: Resource[]) => reconcileNamespace(rs, "demo", "https://eddy.example", "2026-01-01T00:00:00Z");

describe("Channelable: the subscribable annotation", () => {
  it("every InMemoryChannel and Channel carries messaging.knative.dev/subscribable: v1, as Knative's defaulting sets it", () => {
    expect(make(InMemoryChannelKind, imc()).metadata.annotations).toMatchObject({ "messaging.knative.dev/subscribable": "v1" });
    expect(make(ChannelKind, { apiVersion: M, kind: "Channel", metadata: { name: "g" } }).metadata.annotations).toMatchObject({ "messaging.knative.dev/subscribable": "v1" });
    expect(make(InMemoryChannelKind, imc({}, { other: "x" })).metadata.annotations).toEqual({ other: "x", "messaging.knative.dev/subscribable": "v1" });
  });
});

describe("Channelable: spec.subscribers", () => {
  it("lists each resolved Subscription as a SubscriberSpec, beside its ready status.subscribers entry, on IMC and Channel", () => {
    for (const [kind, body] of [[InMemoryChannelKind, imc({ delivery: { retry: 2, backoffDelay: "PT1S" } })], [ChannelKind, { apiVersion: M, kind: "Channel", metadata: { name: "c" }, spec: { delivery: { retry: 2, backoffDelay: "PT1S" } } }]] as const) {
      const ch = make(kind, body);
      const s = make(SubscriptionKind, sub("s1", {
        subscriber: { uri: "http://example.com" }, reply: { uri: "http://example.com/reply" }, delivery: { retry: 4, deadLetterSink: { uri: "http://dls.example/" } },
      }, kind.kind));
      const plain = make(SubscriptionKind, sub("s2", { subscriber: { uri: "http://example.com/2" } }, kind.kind));
      reconcile(ch, s, plain);
      expect(ch.spec!.subscribers).toEqual([
        { name: "s1", uid: s.metadata.uid, generation: 1, subscriberUri: "http://example.com", replyUri: "http://example.com/reply", delivery: { deadLetterSink: { uri: "http://dls.example/" }, retry: 4 } },
        { name: "s2", uid: plain.metadata.uid, generation: 1, subscriberUri: "http://example.com/2", delivery: { retry: 2, backoffDelay: "PT1S" } },
      ]);
      expect(ch.status!.subscribers).toEqual([
        { uid: s.metadata.uid, observedGeneration: 1, ready: "True" },
        { uid: plain.metadata.uid, observedGeneration: 1, ready: "True" },
      ]);
      // Written like a controller's patch: one new generation, observed by the same reconcile.
      expect(ch.metadata.generation).toBe(2);
      expect(ch.status!.observedGeneration).toBe(2);
    }
  });

  it("moves the generation once per change and not when nothing changed; an empty list is left out", () => {
    const ch = make(InMemoryChannelKind, imc());
    reconcile(ch);
    expect(ch.spec!.subscribers).toBeUndefined();
    expect(ch.metadata.generation).toBe(1);
    const s = make(SubscriptionKind, sub("s", { subscriber: { uri: "http://example.com" } }));
    reconcile(ch, s);
    expect(ch.metadata.generation).toBe(2);
    expect(reconcile(ch, s).changed).toEqual([]);
    expect(ch.metadata.generation).toBe(2);
    reconcile(ch);
    expect(ch.spec!.subscribers).toBeUndefined();
    expect(ch.metadata.generation).toBe(3);
  });

  it("leaves out a Subscription whose destinations do not resolve; status.subscribers says why it is not ready", () => {
    const ch = make(InMemoryChannelKind, imc());
    const s = make(SubscriptionKind, sub("s", { subscriber: { ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "missing" } } }));
    reconcile(ch, s);
    expect(ch.spec!.subscribers).toBeUndefined();
    expect(ch.status!.subscribers).toEqual([{ uid: s.metadata.uid, observedGeneration: 1, ready: "False", message: expect.stringContaining('Broker "missing" does not exist') }]);
  });
});

describe("Channelable: spec.subscribers is server-owned", () => {
  function withSubscriber(): Resource {
    const ch = make(InMemoryChannelKind, imc());
    reconcile(ch, make(SubscriptionKind, sub("s", { subscriber: { uri: "http://example.com" } })));
    return ch;
  }

  it("a PUT without spec.subscribers, or with the list as read, keeps the stored list and the generation", () => {
    const ch = withSubscriber();
    const stored = structuredClone(ch.spec!.subscribers);
    const omitted = make(InMemoryChannelKind, imc(), ch);
    expect(omitted.spec!.subscribers).toEqual(stored);
    expect(omitted.metadata.generation).toBe(ch.metadata.generation);
    const roundTrip = make(InMemoryChannelKind, { ...imc(), spec: { subscribers: stored } }, ch);
    expect(roundTrip.spec!.subscribers).toEqual(stored);
    expect(roundTrip.metadata.generation).toBe(ch.metadata.generation);
  });

  it("any other value is refused with 422 naming spec.subscribers and saying to use a Subscription", () => {
    const ch = withSubscriber();
    for (const subscribers of [[], [{ uid: "x", subscriberUri: "http://evil.example/" }], "none"]) {
      const e = refused(InMemoryChannelKind, imc({ subscribers }), ch);
      expect(e.status).toBe(422);
      expect(e.causes).toEqual([{ field: "spec.subscribers", message: expect.stringMatching(/written by Eddy.*Subscription/) }]);
    }
    expect(refused(ChannelKind, { apiVersion: M, kind: "Channel", metadata: { name: "n" }, spec: { subscribers: [{ uid: "x" }] } }).causes[0]!.field).toBe("spec.subscribers");
    expect(make(InMemoryChannelKind, { ...imc(), metadata: { name: "fresh" }, spec: { subscribers: [] } }).spec!.subscribers).toBeUndefined();
  });
});
