/** The kinds the console lists and links to, by their URL plural (the same table kubectl sees). */
export interface KindInfo {
  plural: string;
  kind: string;
  group: string;
  version: string;
  /** What the topology draws it as. */
  role: "source" | "hub" | "route" | "flow" | "other";
  /** Has `/stats`, `/tail` and `/deadletters` (Brokers and Channels). */
  dispatcher?: boolean;
  /** Has `/tail` (for a Trigger or Subscription: its own deliveries). */
  tail?: boolean;
}

export const KINDS: readonly KindInfo[] = [
  { plural: "brokers", kind: "Broker", group: "eventing.knative.dev", version: "v1", role: "hub", dispatcher: true, tail: true },
  { plural: "channels", kind: "Channel", group: "messaging.knative.dev", version: "v1", role: "hub", dispatcher: true, tail: true },
  { plural: "inmemorychannels", kind: "InMemoryChannel", group: "messaging.knative.dev", version: "v1", role: "hub", dispatcher: true, tail: true },
  { plural: "triggers", kind: "Trigger", group: "eventing.knative.dev", version: "v1", role: "route", tail: true },
  { plural: "subscriptions", kind: "Subscription", group: "messaging.knative.dev", version: "v1", role: "route", tail: true },
  { plural: "sequences", kind: "Sequence", group: "flows.knative.dev", version: "v1", role: "flow" },
  { plural: "parallels", kind: "Parallel", group: "flows.knative.dev", version: "v1", role: "flow" },
  { plural: "eventtransforms", kind: "EventTransform", group: "eventing.knative.dev", version: "v1alpha1", role: "flow" },
  { plural: "requestreplies", kind: "RequestReply", group: "eventing.knative.dev", version: "v1alpha1", role: "flow" },
  { plural: "pingsources", kind: "PingSource", group: "sources.knative.dev", version: "v1", role: "source" },
  { plural: "webhooksources", kind: "WebhookSource", group: "sources.eddy.dev", version: "v1alpha1", role: "source" },
  { plural: "eventtypes", kind: "EventType", group: "eventing.knative.dev", version: "v1beta3", role: "other" },
  { plural: "replays", kind: "Replay", group: "eventing.eddy.dev", version: "v1alpha1", role: "other" },
];

export function byPlural(plural: string): KindInfo | undefined {
  return KINDS.find((k) => k.plural === plural);
}

export function byKind(kind: string): KindInfo | undefined {
  return KINDS.find((k) => k.kind === kind);
}

/** `/apis/{group}/{version}/namespaces/{ns}/{plural}[/{name}]`, each segment escaped. */
export function apiPath(k: KindInfo, ns: string, name?: string): string {
  const base = `/apis/${k.group}/${k.version}/namespaces/${encodeURIComponent(ns)}/${k.plural}`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}
