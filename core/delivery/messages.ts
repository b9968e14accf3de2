import type { CloudEvent } from "../cloudevents/event.js";

/**
 * Which leg of a route a delivery is on: the subscriber call, the reply forwarded to a route's
 * `reply` destination (Subscriptions), or the dead-letter sink after retries ran out.
 */
export type Hop = "subscriber" | "reply" | "dls";

/** The Durable Object that owns a delivery's durable record and must hear its outcome. */
export interface OwnerRef {
  binding: "BROKER" | "CHANNEL" | "SOURCE";
  name: string;
}

/** What one delivery attempt needs to know, wherever it is made. */
export interface AttemptSpec {
  /** The delivery row. */
  id: number;
  /** Dispatch generation: outcomes of superseded dispatches are ignored when they failed. */
  gen: number;
  hop: Hop;
  url: string;
  /** The target is this system's own addressable. */
  internal: boolean;
  format: "binary" | "json";
  timeoutMs: number;
  namespace: string;
  /** Who sends the delivery and how it proves it (from the route; see DeliveryAuth). */
  auth?: DeliveryAuth;
  /** The route's uid, so the owner finds who sends without reading the delivery row back. */
  route?: string;
}

/**
 * How a delivery says who sends it: a token for the destination's audience naming the route's
 * identity (when the destination has an audience), and/or a Standard Webhooks signature with the
 * route's signing secret. Filled from the route's plan by the owning object.
 */
export interface DeliveryAuth {
  /** OIDC audience of the destination. */
  audience?: string;
  /** The route's identity (`sub`) and the issuer to name in its tokens. */
  subject?: string;
  issuer?: string;
  /** Name of the secret that signs the delivery (`eddy.dev/signing-secret`). */
  signingSecret?: string;
}

/**
 * A queue message asking a consumer to make one delivery attempt. It is transport only: the
 * durable record lives in the owner's storage and is re-sent if this message is lost.
 */
export interface DeliveryMessage extends AttemptSpec {
  owner: OwnerRef;
  /**
   * The owner's incarnation that dispatched it: a claim from a message of another incarnation (the
   * object restarted, or its owner was deleted and created again) is refused, never sent.
   */
  epoch?: number;
  /** 1-based number of this attempt on this hop. */
  attempt: number;
  /** For internal targets: the object behind the URL, reached by RPC instead of HTTP. */
  object?: OwnerRef;
  /** The event to send; absent when too large for a queue message (the consumer loads it). */
  event?: CloudEvent;
}

/** What one attempt came to, reported back to the owner. */
export interface DeliveryOutcome {
  id: number;
  gen: number;
  ok: boolean;
  /** HTTP status of the answer; undefined when no answer came (network error, timeout). */
  status?: number;
  retryAfterMs?: number;
  /** Up to 768 bytes explaining the failure: the response body, or Eddy's own description. */
  errorData?: Uint8Array;
  /** Short human description of the failure, for logs. */
  error?: string;
  /** The reply event of a subscriber that answered with one. */
  reply?: CloudEvent;
  /** The W3C trace id of the event attempted, for the log line of a failure. */
  traceId?: string;
  /** How long the attempt took, from the request out to the answer read (for latency metrics). */
  latencyMs?: number;
}
