import type { AttrValue } from "./cloudevents/event.js";

/**
 * The live tail's wire format: what durable-objects/tail.ts sends over the WebSocket and what the
 * console (console/tail.ts) and `eddy tail` read. One JSON message per accepted event and per
 * delivery outcome.
 */

/** The subprotocol a tail client asks for; the server answers with it. */
export const TAIL_PROTOCOL = "eddy.tail.v1";

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
}

export type TailMessage = TailEvent | TailDelivery;
