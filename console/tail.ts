/**
 * The live tail's model: messages from the tail WebSocket, grouped per event with its delivery
 * outcomes, filtered by a CESQL expression that Eddy's own engine (core/cesql) evaluates right
 * here in the browser, and held back while paused. No DOM: unit-tested on recorded messages.
 */
import { compile, matches, type CompiledExpression } from "../core/cesql/index.js";
import type { AttrValue } from "../core/cloudevents/event.js";
import type { TailDelivery, TailEvent, TailMessage } from "../core/tail.js";
import { eventView } from "../core/cloudevents/view.js";

export type { TailDelivery, TailEvent, TailMessage };

/** One line of the tail: an event and the outcomes seen for it, or outcomes of an event seen before we connected. */
export interface TailRow {
  seq: number;
  eventId: string;
  event?: TailEvent;
  deliveries: TailDelivery[];
}

const utf8 = new TextEncoder();

/** A message as sent by the server, or null for anything else (ignored, never fatal). */
export function parseTailMessage(text: string): TailMessage | null {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return null;
  }
  if (!m || typeof m !== "object") return null;
  const o = m as Record<string, unknown>;
  if (o.kind === "event" && o.attrs && typeof o.attrs === "object") return o as unknown as TailEvent;
  if (o.kind === "delivery" && typeof o.eventId === "string") return o as unknown as TailDelivery;
  return null;
}

export class TailModel {
  private rows: TailRow[] = [];
  private byId = new Map<string, TailRow>();
  private held: TailMessage[] = [];
  private seq = 0;
  private expr: CompiledExpression | null = null;
  paused = false;

  constructor(readonly limit = 500) {}

  /** Sets the CESQL filter ("" for none); returns the parse error's message if it does not parse. */
  setFilter(text: string): string | null {
    if (!text.trim()) {
      this.expr = null;
      return null;
    }
    try {
      this.expr = compile(text);
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }

  get filter(): string {
    return this.expr?.source ?? "";
  }

  receive(m: TailMessage): void {
    if (this.paused) {
      this.held.push(m);
      // Held messages are bounded like the rows: a long pause keeps the newest.
      if (this.held.length > this.limit * 4) this.held.shift();
      return;
    }
    this.apply(m);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const m of held) this.apply(m);
  }

  get heldCount(): number {
    return this.held.length;
  }

  private apply(m: TailMessage): void {
    const id = m.kind === "event" ? String(m.attrs.id ?? "") : m.eventId;
    let row = this.byId.get(id);
    if (!row || (m.kind === "event" && row.event)) {
      // A second event with the same id is its own row (ids repeat across sources and replays).
      row = { seq: ++this.seq, eventId: id, deliveries: [] };
      this.rows.push(row);
      this.byId.set(id, row);
    }
    if (m.kind === "event") row.event = m;
    else row.deliveries.push(m);
    while (this.rows.length > this.limit) {
      const old = this.rows.shift()!;
      if (this.byId.get(old.eventId) === old) this.byId.delete(old.eventId);
    }
  }

  /** Whether a row passes the filter. Outcomes of an event not seen here pass only with no filter. */
  passes(row: TailRow): boolean {
    if (!this.expr) return true;
    if (!row.event) return false;
    return matches(this.expr, eventView(toCloudEvent(row.event)));
  }

  /** The rows to show, newest first. */
  visible(): TailRow[] {
    return this.rows.filter((r) => this.passes(r)).reverse();
  }

  get total(): number {
    return this.rows.length;
  }

  find(seq: number): TailRow | undefined {
    return this.rows.find((r) => r.seq === seq);
  }
}

/** The tail's view of an event as a CloudEvent: its attributes, and the preview as data (a cut-off
 * JSON preview does not parse, so `data.x` only matches events whose data fit in the preview). */
export function toCloudEvent(e: TailEvent) {
  return { attrs: e.attrs, ...(e.dataPreview !== undefined ? { data: utf8.encode(e.dataPreview) } : {}) };
}

/** A short summary of where an event went: "orders: delivered", "audit: retrying (503, attempt 2)", "dropped: no-matching-trigger". */
export function outcomeText(d: TailDelivery): string {
  if (!d.route && d.outcome === "dropped") return `dropped: ${d.reason ?? "no route"}`;
  const extra = [d.status ? String(d.status) : "", d.attempt ? `attempt ${d.attempt}` : ""].filter(Boolean).join(", ");
  const hop = d.hop && d.hop !== "subscriber" ? ` ${d.hop}` : "";
  return `${d.route}${hop}: ${d.outcome}${extra ? ` (${extra})` : ""}`;
}
