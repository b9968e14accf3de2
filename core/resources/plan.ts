import type { DeliveryPolicy } from "../delivery/policy.js";
import type { TriggerFilterSpec } from "../filters/index.js";
import type { RouteFlow } from "./flow.js";
import type { Placement } from "../placement.js";

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
  /** Name of the secret (`eddy.dev/signing-secret`) that signs every delivery of the route, dead letters included. */
  signingSecret?: string;
}

/**
 * What the control plane tells a data-plane Durable Object (a Broker, later a Channel): its
 * identity and its current routes. Sent whenever the reconciled result changes.
 */
export interface DispatcherPlan {
  /** The name the Durable Object is addressed by (see PlanKey). */
  key: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  routes: RoutePlan[];
  /** Per-owner options, e.g. the ingress size limit; `auth` is the AuthPlan (core/identity/policy.ts) senders are checked against. */
  options?: Record<string, unknown>;
  /** Replays of this owner's archive still running (a Replay leaves the plan once it has finished). */
  replays?: ReplayPlan[];
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
