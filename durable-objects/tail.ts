import type { CloudEvent } from "../core/cloudevents/event.js";
import { TAIL_PROTOCOL, tailUpgradeHeaders, type TailDelivery, type TailEvent } from "../core/tail.js";

export { TAIL_PROTOCOL };

const PREVIEW_BYTES = 512;

const dec = new TextDecoder();

/**
 * Live tail of one data-plane object over WebSockets, with the Durable Object hibernation API:
 * the object accepts each socket with `ctx.acceptWebSocket`, so idle watchers cost nothing and the
 * object may sleep between events. A socket tagged with a route (a Trigger's or Subscription's
 * uid) gets only that route's deliveries. The publish path pays one boolean test when nobody
 * watches.
 *
 * @example
 * if (tail.watching) tail.event(ev, 0);
 */
export class Tail {
  private watchers: number;

  constructor(private readonly ctx: DurableObjectState) {
    this.watchers = ctx.getWebSockets().length;
  }

  get watching(): boolean {
    return this.watchers > 0;
  }

  /**
   * The object's fetch(): WebSocket upgrades for the live tail (`?route=<uid>` limits it to one
   * route's deliveries). The request carries the client's `Sec-WebSocket-Protocol`, forwarded by
   * the Worker, so the answer names the subprotocol only when the client asked for it.
   */
  upgrade(request: Request, configured: boolean): Response {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    if (!configured) return new Response("not found", { status: 404 });
    return this.accept(new URL(request.url).searchParams.get("route") ?? undefined, request.headers.get("sec-websocket-protocol"));
  }

  /** Accepts a WebSocket upgrade; `route` limits the socket to one route's deliveries. */
  accept(route: string | undefined, offered: string | null): Response {
    const pair = new WebSocketPair();
    const [client, server] = Object.values(pair) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server, route ? [`route:${route}`] : ["all"]);
    this.watchers = this.ctx.getWebSockets().length;
    return new Response(null, { status: 101, webSocket: client, headers: tailUpgradeHeaders(offered) });
  }

  /** A socket went away (from the object's webSocketClose / webSocketError). */
  closed(): void {
    // The closing socket is still listed while its close handler runs.
    this.watchers = Math.max(0, this.ctx.getWebSockets().length - 1);
  }

  /** A watcher closed its socket (the object's webSocketClose): the close is answered. */
  close(ws: WebSocket, code: number): void {
    this.closed();
    try {
      ws.close(code === 1005 ? 1000 : code, "bye");
    } catch {
      // already closed
    }
  }

  event(ev: CloudEvent, partition: number): void {
    if (!this.watching) return;
    const msg: TailEvent = { kind: "event", at: new Date().toISOString(), partition, attrs: ev.attrs, size: ev.data?.byteLength ?? 0 };
    if (ev.data?.byteLength) msg.dataPreview = dec.decode(ev.data.subarray(0, PREVIEW_BYTES));
    this.send(JSON.stringify(msg), this.ctx.getWebSockets("all"));
  }

  delivery(routeUid: string, d: Omit<TailDelivery, "kind" | "at">): void {
    if (!this.watching) return;
    const text = JSON.stringify({ kind: "delivery", at: new Date().toISOString(), ...d });
    this.send(text, [...this.ctx.getWebSockets("all"), ...this.ctx.getWebSockets(`route:${routeUid}`)]);
  }

  /** An event dropped on purpose before any delivery (no Trigger matched, no Subscription, TTL): its only outcome. */
  dropped(ev: CloudEvent, reason: string): void {
    if (!this.watching) return;
    const msg: TailDelivery = { kind: "delivery", at: new Date().toISOString(), eventId: String(ev.attrs.id ?? ""), route: "", hop: "subscriber", outcome: "dropped", attempt: 0, reason };
    this.send(JSON.stringify(msg), this.ctx.getWebSockets("all"));
  }

  private send(text: string, sockets: WebSocket[]): void {
    for (const ws of sockets) {
      try {
        ws.send(text);
      } catch {
        // A socket closing under us; its close handler updates the count.
      }
    }
  }
}
