// The floor of Eddy's delivery contract, as a bench ceiling: what any design must do on this runtime
// to answer 202 only once an event is durable and then deliver it from the object that holds it.
// The ingress Worker makes one RPC to a Durable Object, which writes the event and one row per
// destination to its SQLite, calls arriving together in one write (the runtime holds the 202 until
// that write is committed), POSTs the event to each destination, reads the answer, and deletes each
// row, and the event with the last.
// It keeps to six outgoing connections at once, as Cloudflare allows a Durable Object and the issue
// asks of Eddy. Nothing else: no filters, retries, leases, backoff, counters or authentication.
import { DurableObject } from "cloudflare:workers";

export class DurableRelay extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.left = new Map();
    this.pending = [];
    this.busy = 0;
    this.waiting = [];
    this.sql.exec("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, headers TEXT NOT NULL, body BLOB)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, event_seq INTEGER NOT NULL, dest INTEGER NOT NULL)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS deliveries_by_event ON deliveries (event_seq)");
    // Ids from counters, not RETURNING (which costs about twice a plain insert), as Eddy's ledger does.
    this.seq = this.sql.exec("SELECT COALESCE(MAX(seq), 0) AS n FROM events").one().n;
    this.id = this.sql.exec("SELECT COALESCE(MAX(id), 0) AS n FROM deliveries").one().n;
  }

  /** Group commit: calls that arrive while a write is pending share it (one commit, not one each). */
  accept(headers, body, n) {
    return new Promise((resolve) => {
      this.pending.push({ headers, body, n, resolve });
      if (this.pending.length === 1) setTimeout(() => this.flush(), 0);
    });
  }

  flush() {
    const batch = this.pending;
    this.pending = [];
    for (const { headers, body, n, resolve } of batch) {
      const seq = ++this.seq;
      this.sql.exec("INSERT INTO events (seq, headers, body) VALUES (?, ?, ?)", seq, JSON.stringify(headers), body);
      this.left.set(seq, n);
      for (let i = 0; i < n; i++) {
        const id = ++this.id;
        this.sql.exec("INSERT INTO deliveries (id, event_seq, dest) VALUES (?, ?, ?)", id, seq, i);
        // Outgoing requests wait for the write to commit (the runtime's output gate), as Eddy's do.
        void this.deliver(seq, id, i, headers, body);
      }
      // The caller's answer, too, waits for the commit.
      resolve();
    }
  }

  async deliver(seq, id, i, headers, body) {
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
    this.sql.exec("DELETE FROM deliveries WHERE id = ?", id);
    const left = this.left.get(seq) - 1;
    if (left > 0) this.left.set(seq, left);
    else {
      this.left.delete(seq);
      this.sql.exec("DELETE FROM events WHERE seq = ?", seq);
    }
  }
}

export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    if (u.pathname === "/relay" || u.pathname === "/durable") {
      const n = Number(u.searchParams.get("n") || "1");
      const body = await req.arrayBuffer();
      if (u.pathname === "/durable") {
        await env.FLOOR.get(env.FLOOR.idFromName("floor")).accept(Object.fromEntries(req.headers), body, n);
      } else {
        const headers = new Headers(req.headers);
        await Promise.all(Array.from({ length: n }, (_, i) => fetch(env.SINK + "r" + i, { method: "POST", headers, body })));
      }
    }
    return new Response(null, { status: 202 });
  },
};
