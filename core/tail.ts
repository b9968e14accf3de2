import type { AttrValue } from "./cloudevents/event.js";

/**
 * The live tail's wire format: what durable-objects/tail.ts sends over the WebSocket and what the
 * console (console/tail.ts) and `eddy tail` read. One JSON message per accepted event and per
 * delivery outcome.
 */

/** The subprotocol a tail client may ask for; the server answers with it only then. */
export const TAIL_PROTOCOL = "eddy.tail.v1";

/**
 * The `Sec-WebSocket-Protocol` to answer a tail upgrade with: TAIL_PROTOCOL when the client's
 * header offers it, none otherwise. RFC 6455 (4.1) has a client that asked for no subprotocol fail
 * a connection whose answer names one, as the `ws` library does; the token subprotocol of browsers
 * (`base64url.bearer.authorization.k8s.io.`) is never echoed.
 */
export function tailProtocolFor(offered: string | null | undefined): string | undefined {
  return offered?.split(",").some((p) => p.trim() === TAIL_PROTOCOL) ? TAIL_PROTOCOL : undefined;
}

/** The headers of a 101 answering a tail upgrade whose client offered `offered`. */
export function tailUpgradeHeaders(offered: string | null | undefined): Record<string, string> {
  const protocol = tailProtocolFor(offered);
  return protocol ? { "Sec-WebSocket-Protocol": protocol } : {};
}

/** What became of one delivery attempt. */
export type TailOutcome = "delivered" | "retrying" | "dead-lettered" | "kept" | "dropped";

export interface TailEvent {
  kind: "event";
  at: string;
  partition: number;
  attrs: Record<string, AttrValue>;
  /** Payload bytes. */
  size: number;
  /** The payload's first bytes as text, when it is text. */
  dataPreview?: string;
}

export interface TailDelivery {
  kind: "delivery";
  at: string;
  eventId: string;
  /** The Trigger's or Subscription's name. */
  route: string;
  hop: "subscriber" | "reply" | "dls";
  outcome: TailOutcome;
  status?: number;
  attempt: number;
  /**
   * Why an event was dropped before any delivery (`no-matching-trigger`, `no-subscribers`,
   * `ttl-exhausted`): then `route` is empty, `attempt` 0 and `outcome` "dropped".
   */
  reason?: string;
}

export type TailMessage = TailEvent | TailDelivery;
