// The floor of Eddy's delivery contract, as a bench ceiling: what any design must do on this runtime
// to answer 202 only once an event is durable and then deliver it from the object that holds it, at
// the least cost Cloudflare bills for. The ingress Worker makes one RPC to a Durable Object, which
// stores each event once, in one row with the count of destinations it still owes (calls arriving
// together share one write: the runtime holds the 202 until that write is committed), POSTs the
// event to each destination, counts the answers in memory, and deletes the row when the last one
// came: two rows written per event at any fan-out.
// It keeps to six outgoing connections at once, as Cloudflare allows a Durable Object and the issue
// asks of Eddy. Nothing else: no filters, retries, leases, backoff, counters or authentication.
// `/meter` answers the rows its SQL cursors read and wrote, for the cost table beside Eddy's.
import { DurableObject } from "cloudflare:workers";

export class DurableRelay extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.left = new Map();
    this.pending = [];
    this.busy = 0;
    this.waiting = [];
    this.meter = { rowsRead: 0, rowsWritten: 0, requests: 0 };
    this.exec("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, headers TEXT NOT NULL, body BLOB, owed INTEGER NOT NULL)");
    // Ids from a counter, not RETURNING (which costs about twice a plain insert), as Eddy's ledger does.
    this.seq = this.exec("SELECT COALESCE(MAX(seq), 0) AS n FROM events").one().n;
  }

  exec(query, ...args) {
    const cursor = this.sql.exec(query, ...args);
    const rows = cursor.toArray();
    this.meter.rowsRead += cursor.rowsRead;
    this.meter.rowsWritten += cursor.rowsWritten;
    return { one: () => rows[0] };
  }

  /** Group commit: calls that arrive while a write is pending share it (one commit, not one each). */
  accept(headers, body, n) {
    this.meter.requests++;
    return new Promise((resolve) => {
      this.pending.push({ headers, body, n, resolve });
      if (this.pending.length === 1) setTimeout(() => this.flush(), 0);
    });
  }

  readMeter() {
    return { ...this.meter };
  }

  flush() {
    const batch = this.pending;
    this.pending = [];
    for (const { headers, body, n, resolve } of batch) {
      const seq = ++this.seq;
      this.exec("INSERT INTO events (seq, headers, body, owed) VALUES (?, ?, ?, ?)", seq, JSON.stringify(headers), body, n);
      this.left.set(seq, n);
      // Outgoing requests wait for the write to commit (the runtime's output gate), as Eddy's do.
      for (let i = 0; i < n; i++) void this.deliver(seq, i, headers, body);
      // The caller's answer, too, waits for the commit.
      resolve();
    }
  }

  async deliver(seq, i, headers, body) {
    if (this.busy === 6) await new Promise((go) => this.waiting.push(go));
    else this.busy++;
    try {
      const res = await fetch(this.env.SINK + "r" + i, { method: "POST", headers, body });
      await res.arrayBuffer();
    } catch {
      // The bench's sink answers; a failure would show as lost events.
    }
    // The connection passes to the next waiting delivery, if any.
    const next = this.waiting.shift();
    if (next) next();
    else this.busy--;
    const left = this.left.get(seq) - 1;
    if (left > 0) this.left.set(seq, left);
    else {
      this.left.delete(seq);
      this.exec("DELETE FROM events WHERE seq = ?", seq);
    }
  }
}

export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const floor = () => env.FLOOR.get(env.FLOOR.idFromName("floor"));
    if (u.pathname === "/meter") return Response.json(await floor().readMeter());
    if (u.pathname === "/relay" || u.pathname === "/durable") {
      const n = Number(u.searchParams.get("n") || "1");
      const body = await req.arrayBuffer();
      if (u.pathname === "/durable") {
        await floor().accept(Object.fromEntries(req.headers), body, n);
      } else {
        const headers = new Headers(req.headers);
        await Promise.all(Array.from({ length: n }, (_, i) => fetch(env.SINK + "r" + i, { method: "POST", headers, body })));
      }
    }
    return new Response(null, { status: 202 });
  },
};
