import type { DeliveryPolicy } from "../delivery/policy.js";
import type { TriggerFilterSpec } from "../filters/index.js";
import type { RouteFlow } from "./flow.js";
import type { SecretSource } from "../secrets/refs.js";
import type { AuthPlan } from "../identity/policy.js";
import type { PingConfig } from "../sources/ping.js";
import type { WebhookConfig } from "../webhooks/types.js";
import type { KReference } from "./types.js";
import type { Placement } from "../placement.js";
import type { TransformPlan } from "./kinds/eventtransform.js";
import type { RequestReplyPlan } from "./kinds/requestreply.js";

/**
 * Where a delivery goes. `internal` targets are this system's own addressables, reached in-process;
 * `object` names the Durable Object behind such a URL (from core/addressables.ts), so a delivery to
 * it is an RPC rather than an HTTP request.
 */
export interface Target {
  url: string;
  internal?: boolean;
  object?: PlanKey;
  /** OIDC audience of the destination: deliveries to it carry a token for this audience. */
  audience?: string;
}

/** The identity a route's deliveries are sent as: its OIDC ServiceAccount's subject, and the issuer of its tokens. */
export interface RouteSender {
  subject: string;
  issuer: string;
}

/**
 * One delivery route of a data-plane object: a Trigger of a Broker or a Subscription of a Channel.
 * Each route has its own retry state for every event it takes.
 */
export interface RoutePlan extends RouteFlow {
  /** uid of the Trigger or Subscription, stable across updates. */
  uid: string;
  kind: string;
  name: string;
  filter?: TriggerFilterSpec;
  subscriber: Target;
  /** Where a subscriber's reply goes (Subscriptions); absent on Brokers, whose replies re-enter the Broker. */
  reply?: Target;
  deadLetter?: Target;
  policy: DeliveryPolicy;
  /** Who the route's deliveries say they are from (Triggers, Subscriptions, sources, flow steps). */
  sender?: RouteSender;
  /** The secret (`eddy.dev/signing-secret`) that signs every delivery of the route, dead letters included. */
  signingSecret?: SecretSource;
}

/** What every data-plane object's plan may say besides its routes. */
export interface CommonOptions {
  /** Where the (type, source) pairs it sees are registered as EventTypes; absent when auto-creation is off. */
  eventTypes?: KReference;
  /** How many objects stand behind the address (`eddy.dev/partitions`), and which one this is. */
  partitions?: number;
  partition?: number;
  /** How long dead letters no sink took are kept (`eddy.dev/deadletter-retention`). */
  deadLetterRetentionMs?: number;
  /** How long accepted events are archived for Replays (`eddy.dev/archive-retention`). */
  archiveRetentionMs?: number;
  /** Where the owner's objects were placed (`eddy.dev/jurisdiction`, `eddy.dev/location-hint`; core/placement.ts). */
  placement?: Placement;
}

/** An addressable's options: who may send to it (the EventPolicies that apply, compiled by its object). */
export interface AddressableOptions extends CommonOptions {
  auth: AuthPlan;
}

/** A source's options: what it turns into events (a webhook's provider and secrets, or a schedule). */
export interface SourceOptions extends CommonOptions {
  webhook?: WebhookConfig;
  ping?: PingConfig;
  /** How long a WebhookSource remembers delivery ids to drop redeliveries. */
  dedupWindowMs?: number;
}

interface PlanBase {
  /** The name the Durable Object is addressed by (see PlanKey). */
  key: string;
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  routes: RoutePlan[];
  /** Replays of this owner's archive still running (a Replay leaves the plan once it has finished). */
  replays?: ReplayPlan[];
}

/** A Broker's plan: its ready Triggers. */
export interface BrokerPlan extends PlanBase {
  kind: "Broker";
  options: AddressableOptions;
}

/** A channel's plan: a Channel's or InMemoryChannel's Subscriptions, or a flow's internal channel. */
export interface ChannelPlan extends PlanBase {
  kind: "Channel" | "InMemoryChannel" | "Sequence" | "Parallel";
  options: AddressableOptions;
}

/** A source's plan: its one route, to the sink. */
export interface SourcePlan extends PlanBase {
  kind: "PingSource" | "WebhookSource";
  options: SourceOptions;
}

/** An EventTransform's plan: its expressions and sink (core/resources/kinds/eventtransform.ts). */
export interface EventTransformObjectPlan extends PlanBase {
  kind: "EventTransform";
  options: AddressableOptions & { transform?: TransformPlan };
}

/** A RequestReply shard's plan (core/resources/kinds/requestreply.ts); `auth` says who may send replies. */
export interface RequestReplyObjectPlan extends PlanBase {
  kind: "RequestReply";
  options: AddressableOptions & { requestReply?: RequestReplyPlan };
}

/**
 * What the control plane tells a data-plane Durable Object: its identity, its current routes, and
 * its kind's options. Sent whenever the reconciled result changes.
 */
export type DispatcherPlan = BrokerPlan | ChannelPlan | SourcePlan | EventTransformObjectPlan | RequestReplyObjectPlan;

/** Who may send to the plan's object; undefined for sources (their senders are checked by signature). */
export function planAuth(plan: DispatcherPlan | null | undefined): AuthPlan | undefined {
  return plan && "auth" in plan.options ? plan.options.auth : undefined;
}

/** What a data-plane object needs to run a Replay (core/resources/kinds/replay.ts) over its archive. */
export interface ReplayPlan {
  uid: string;
  /** The Replay's name: each replayed event carries it as the `eddyreplay` extension. */
  name: string;
  /** The window of acceptance times, in ms since the epoch, both ends included. */
  from: number;
  to: number;
  /** Only these routes (a Trigger's or Subscription's uid); every route whose filter matches when absent. */
  routes?: string[];
  /** Further filters in the Trigger dialects (`spec.filters`), ANDed with each route's own filter. */
  filters?: unknown[];
}

/** Names the Durable Object that runs a plan: its binding and the name it is addressed by. */
export type PlanBinding = "BROKER" | "CHANNEL" | "SOURCE";

export interface PlanKey {
  binding: PlanBinding;
  name: string;
  /**
   * Where the object was placed (core/placement.ts): its id depends on the jurisdiction, so every
   * stub of a placed owner carries it. Absent for the default placement.
   */
  placement?: Placement;
}

export function planKeyString(k: PlanKey): string {
  return `${k.binding}:${k.name}`;
}

/** What one partition tells the control plane about a Replay it runs (kept per partition there). */
export interface ReplayReport {
  partition: number;
  replayed: number;
  done: boolean;
  error?: string;
  /** Acceptance time of the last event replayed (ms). */
  position?: number;
}
