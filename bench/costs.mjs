#!/usr/bin/env node
// What the pieces of one event cost on this runtime, each alone: `node bench/costs.mjs`.
// A Worker → Durable Object RPC; a write turn's commit (the object's SQLite on disk, as Eddy's and
// the bench's are, against one on tmpfs when /dev/shm exists); the ledger's inserts with RETURNING
// against ids chosen by the caller. Prints µs per operation; nothing is written.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { workerdCpu } from "./lib.mjs";

const script = `
import { DurableObject } from "cloudflare:workers";
const ATTRS = JSON.stringify({ specversion: "1.0", id: "3f1c2a9e-0000-4000-8000-000000000001", source: "/bench/producer", type: "dev.eddy.bench", benchtag: "run-1" });
export class Piece extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, attrs TEXT NOT NULL, data BLOB, ttl INTEGER NOT NULL)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, event_seq INTEGER NOT NULL, route TEXT NOT NULL, due_at INTEGER NOT NULL, lease_until INTEGER)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS by_event ON deliveries (event_seq)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS by_time ON deliveries (lease_until, due_at)");
    this.next = 1e9;
  }
  publish(event) { return { status: 202, bytes: event.data.byteLength }; }
  /** n write turns of one insert each (each turn commits on its own). */
  async turns(n) {
    for (let i = 0; i < n; i++) {
      this.sql.exec("INSERT INTO events (attrs, data, ttl) VALUES (?, ?, ?)", ATTRS, new ArrayBuffer(64), 254);
      await new Promise((r) => setTimeout(r, 0));
    }
  }
  /** n events and deliveries inserted and deleted, in turns of ten; µs spent in the inserts. */
  async inserts(n, returning) {
    let spent = 0;
    for (let i = 0; i < n; i += 10) {
      const rows = [];
      const t = performance.now();
      for (let j = 0; j < 10; j++) {
        if (returning) {
          const seq = this.sql.exec("INSERT INTO events (attrs, data, ttl) VALUES (?, ?, ?) RETURNING seq", ATTRS, new ArrayBuffer(64), 254).one().seq;
          rows.push([seq, this.sql.exec("INSERT INTO deliveries (event_seq, route, due_at, lease_until) VALUES (?, ?, ?, ?) RETURNING id", seq, "r", 0, 1).one().id]);
        } else {
          const seq = ++this.next, id = ++this.next;
          this.sql.exec("INSERT INTO events (seq, attrs, data, ttl) VALUES (?, ?, ?, ?)", seq, ATTRS, new ArrayBuffer(64), 254);
          this.sql.exec("INSERT INTO deliveries (id, event_seq, route, due_at, lease_until) VALUES (?, ?, ?, ?, ?)", id, seq, "r", 0, 1);
          rows.push([seq, id]);
        }
      }
      spent += performance.now() - t;
      for (const [seq, id] of rows) {
        this.sql.exec("DELETE FROM deliveries WHERE id = ?", id);
        this.sql.exec("DELETE FROM events WHERE seq = ?", seq);
      }
      await new Promise((r) => setTimeout(r, 0));
    }
    return (spent * 1000) / n;
  }
}
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const n = Number(u.searchParams.get("n"));
    const stub = env.PIECE.get(env.PIECE.idFromName("x"));
    if (u.pathname === "/rpc") {
      const event = { attrs: JSON.parse(ATTRS), data: new Uint8Array(64) };
      for (let i = 0; i < n; i++) await stub.publish(event);
      return new Response("ok");
    }
    if (u.pathname === "/turns") { await stub.turns(n); return new Response("ok"); }
    return new Response(String(await stub.inserts(n, u.searchParams.has("returning"))));
  },
};`;

/** CPU seconds of the workerd processes under this one, together. */
const workerdTotal = () => Object.values(workerdCpu()).reduce((a, b) => a + b, 0);

async function runtime(dir) {
  const mf = new Miniflare({ modules: true, script, compatibilityDate: "2026-04-20", durableObjects: { PIECE: { className: "Piece", useSQLite: true } }, durableObjectsPersist: dir });
  await mf.ready;
  const timed = async (path, n) => {
    await (await mf.dispatchFetch(`http://x${path}${path.includes("?") ? "&" : "?"}n=${Math.ceil(n / 10)}`)).text();
    const c0 = workerdTotal();
    const t0 = performance.now();
    const body = await (await mf.dispatchFetch(`http://x${path}${path.includes("?") ? "&" : "?"}n=${n}`)).text();
    return { wallUs: ((performance.now() - t0) * 1000) / n, cpuUs: ((workerdTotal() - c0) * 1e6) / n, body };
  };
  return { timed, stop: () => mf.dispose() };
}

const f = (x) => x.toFixed(0);
const disk = mkdtempSync(join(tmpdir(), "eddy-costs-"));
const rt = await runtime(disk);
const rows = [];
try {
  const rpc = await rt.timed("/rpc", 3000);
  rows.push(["Worker → object RPC with a small event (both sides)", `${f(rpc.wallUs)} µs wall, ${f(rpc.cpuUs)} µs workerd CPU`]);
  const turn = await rt.timed("/turns", 1000);
  rows.push([`a write turn and its commit, SQLite on disk (${tmpdir()})`, `${f(turn.wallUs)} µs wall, ${f(turn.cpuUs)} µs workerd CPU`]);
  const ret = await rt.timed("/ins?returning", 2000);
  const plain = await rt.timed("/ins", 2000);
  rows.push(["event and delivery inserted, ids from RETURNING", `${f(Number(ret.body))} µs in the inserts`]);
  rows.push(["event and delivery inserted, ids chosen by the caller", `${f(Number(plain.body))} µs in the inserts`]);
} finally {
  await rt.stop();
  rmSync(disk, { recursive: true, force: true });
}
if (existsSync("/dev/shm")) {
  const shm = mkdtempSync("/dev/shm/eddy-costs-");
  const mem = await runtime(shm);
  try {
    const turn = await mem.timed("/turns", 1000);
    rows.push(["a write turn and its commit, SQLite on tmpfs (/dev/shm)", `${f(turn.wallUs)} µs wall, ${f(turn.cpuUs)} µs workerd CPU`]);
  } finally {
    await mem.stop();
    rmSync(shm, { recursive: true, force: true });
  }
}
console.log("| piece, alone | cost |\n| --- | --- |");
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
