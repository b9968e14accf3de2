import type { ReconcileContext } from "./kind.js";
import type { Manifest, Resource } from "./types.js";

/** The Subscribable duck version a channel speaks; Knative's defaulting webhook sets it on every channel. */
export const SUBSCRIBABLE_ANNOTATION = "messaging.knative.dev/subscribable";

export function defaultSubscribable(obj: Manifest): void {
  const meta = (obj.metadata ??= {});
  (meta.annotations ??= {})[SUBSCRIBABLE_ANNOTATION] ??= "v1";
}

const DELIVERY_FIELDS = ["retry", "backoffPolicy", "backoffDelay", "timeout", "retryAfterMax"] as const;

/**
 * The Channelable duck's `spec.subscribers` of a channel: one SubscriberSpec per Subscription on it
 * whose destinations resolved, as Knative's Subscription reconciler patches them into the channel
 * (name, uid, generation, the resolved URIs, and the effective delivery with the dead-letter sink
 * as its resolved `uri`). Sorted by name; absent when there is none (`omitempty`).
 */
export function channelSubscribers(channel: Resource, ctx: ReconcileContext): Record<string, unknown> {
  const subscribers = ctx.list(channel.apiVersion, "Subscription")
    .filter((s) => {
      const ref = s.spec?.channel as { kind?: string; name?: string } | undefined;
      const resolved = s.status?.conditions?.some((c) => c.type === "ReferencesResolved" && c.status === "True");
      return ref?.kind === channel.kind && ref.name === channel.metadata.name && resolved;
    })
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((s) => {
      const physical = (s.status?.physicalSubscription ?? {}) as Record<string, string | undefined>;
      const declared = (s.spec?.delivery ?? channel.spec?.delivery) as Record<string, unknown> | undefined;
      const delivery: Record<string, unknown> = {};
      if (physical.deadLetterSinkUri) delivery.deadLetterSink = { uri: physical.deadLetterSinkUri };
      for (const f of DELIVERY_FIELDS) if (declared?.[f] !== undefined) delivery[f] = declared[f];
      return {
        name: s.metadata.name,
        uid: s.metadata.uid,
        generation: s.metadata.generation,
        ...(physical.subscriberUri ? { subscriberUri: physical.subscriberUri } : {}),
        ...(physical.replyUri ? { replyUri: physical.replyUri } : {}),
        ...(Object.keys(delivery).length ? { delivery } : {}),
      };
    });
  return subscribers.length ? { subscribers } : {};
}
