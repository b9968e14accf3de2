// Shared pieces of `npm run bench`: the Miniflare runtime, a recording sink, a bounded load generator.
import { createServer } from "node:http";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { Log, LogLevel, Miniflare } from "miniflare";
import { newSigningKey } from "../scripts/signing-key.mjs";

export const TOKEN = "bench-token";
/** The key Eddy signs ServiceAccount tokens with, as `npm start` would write it to .dev.vars. */
const SIGNING_KEY = JSON.stringify(newSigningKey());

/** Eddy's bundled Worker under plain Miniflare over HTTP, with the bindings of wrangler.toml. */
export async function startEddy(bundle, workerOptions, bindings = {}) {
  const persist = mkdtempSync(join(tmpdir(), "eddy-bench-"));
  // Without the console's static assets: locally Miniflare puts a router and a proxy worker in front
  // of every request when `[assets]` is set (25–45% of local ingress), where Cloudflare with
  // `run_worker_first` invokes the Worker directly. The bench measures Eddy's Worker, as deployed.
  const { assets: _assets, ...options } = workerOptions;
  const mf = new Miniflare({
    ...options,
    name: "eddy",
    modules: true,
    scriptPath: bundle,
    modulesRoot: dirname(bundle),
    bindings: { ...workerOptions.bindings, ADMIN_TOKEN: TOKEN, EDDY_SIGNING_KEY: SIGNING_KEY, ...bindings },
    host: "127.0.0.1",
    port: 0,
    durableObjectsPersist: join(persist, "do"),
    ...(process.env.BENCH_DEBUG ? { log: new Log(LogLevel.DEBUG) } : {}),
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  return { url, stop: async () => { await mf.dispose(); rmSync(persist, { recursive: true, force: true }); } };
}

/**
 * The ceilings: a Worker on the same runtime that does no work (`/noop` answers 202) or only the
 * unavoidable work of a delivery (`/relay?n=N` POSTs the request to the sink N times, then 202); and
 * the floor of Eddy's contract (`/durable?n=N`, bench/durable-relay.js): the event and one row per
 * destination written to a Durable Object's SQLite before the 202, the object POSTing it N times and
 * deleting the rows as the answers come, with nothing else (no filters, retries, leases or counters).
 */
export async function startBaseline(sinkUrl) {
  const persist = mkdtempSync(join(tmpdir(), "eddy-bench-floor-"));
  const mf = new Miniflare({
    modules: true, scriptPath: join(dirname(fileURLToPath(import.meta.url)), "durable-relay.js"), compatibilityDate: "2026-04-20",
    bindings: { SINK: sinkUrl }, durableObjects: { FLOOR: { className: "DurableRelay", useSQLite: true } },
    durableObjectsPersist: persist, host: "127.0.0.1", port: 0,
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  return { url, stop: async () => { await mf.dispose(); rmSync(persist, { recursive: true, force: true }); } };
}

/** CPU seconds (user + system) of each workerd process this process started, by pid. */
export function workerdCpu() {
  const out = {};
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, "utf8");
      const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
      if (Number(f[1]) === process.pid && st.includes("(workerd)")) out[d] = (Number(f[11]) + Number(f[12])) / 100;
    } catch {}
  }
  return out;
}

/** A subscriber that answers 202 and records, per run tag, the latency from the `ce-benchsent` stamp. */
export async function startSink() {
  const runs = new Map();
  const failed = new Set();
  const server = createServer((req, res) => {
    const arrived = performance.now();
    req.resume();
    // A path containing /delayN/ answers after N ms (a subscriber that takes its time); one
    // containing /failonce/ answers 503 to the first attempt of each event (a retry on every event).
    const delay = Number(/\/delay(\d+)\//.exec(req.url ?? "")?.[1] ?? 0);
    const failOnce = /\/failonce\//.test(req.url ?? "");
    req.on("end", () => {
      const tag = req.headers["ce-benchtag"];
      const sent = Number(req.headers["ce-benchsent"]);
      if (failOnce) {
        const key = `${req.headers["ce-id"]} ${req.url}`;
        if (!failed.has(key)) {
          failed.add(key);
          res.writeHead(503);
          res.end();
          return;
        }
      }
      if (tag) {
        let r = runs.get(tag);
        if (!r) runs.set(tag, (r = { latencies: [], first: arrived, last: arrived, seen: new Set() }));
        // One delivery per event and route: each route has its own sink path (/r0, /r1, ...).
        const key = `${req.headers["ce-id"]} ${req.url}`;
        if (r.seen.has(key)) r.duplicates = (r.duplicates ?? 0) + 1;
        else {
          r.seen.add(key);
          r.latencies.push(arrived - sent);
        }
        r.last = arrived;
      }
      const answer = () => {
        res.writeHead(202);
        res.end();
      };
      if (delay) setTimeout(answer, delay);
      else answer();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const url = `http://127.0.0.1:${server.address().port}/`;
  return { url, runs, close: () => new Promise((ok) => { server.closeAllConnections(); server.close(ok); }) };
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Bounded closed-loop load: `connections` concurrent POSTs of binary CloudEvents for `seconds`.
 * Every request carries a unique id, a run tag and its send time (performance.now of this process,
 * which also hosts the sink) so arrival latency can be measured.
 */
export async function load({ url, tag, connections, seconds, rate, amount, keys, auth }) {
  let n = 0;
  const result = await autocannon({
    url,
    connections,
    ...(amount ? { amount } : { duration: seconds }),
    pipelining: 1,
    ...(rate ? { overallRate: rate } : {}),
    requests: [{
      method: "POST",
      setupRequest: (req) => ({
        ...req,
        headers: {
          "content-type": "application/json",
          // The admin token is accepted as a sender (the token check itself is measured on its own row);
          // `auth` null sends none, a string sends that Authorization header.
          ...(auth === null ? {} : { authorization: auth ?? `Bearer ${TOKEN}` }),
          "ce-specversion": "1.0",
          "ce-type": "dev.eddy.bench",
          "ce-source": "/bench",
          "ce-id": `${tag}-${++n}`,
          "ce-benchtag": tag,
          "ce-benchsent": String(performance.now()),
          // With `keys`, events carry a partitionkey (the CloudEvents partitioning extension).
          ...(keys ? { "ce-partitionkey": `k${n % keys}` } : {}),
        },
        body: '{"bench":true}',
      }),
    }],
  });
  return {
    durationS: result.duration,
    sent: result.requests.sent,
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

/** Waits until the sink has `expected` arrivals for `tag`, or `timeoutMs` passes. */
export async function drain(sink, tag, expected, timeoutMs) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if ((sink.runs.get(tag)?.latencies.length ?? 0) >= expected) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const r = sink.runs.get(tag) ?? { latencies: [], first: 0, last: 0 };
  const lat = [...r.latencies].sort((a, b) => a - b);
  // `delivered` counts distinct (event, route) pairs; a second arrival of the same pair is a duplicate.
  return {
    delivered: lat.length, expected, duplicates: r.duplicates ?? 0, lost: Math.max(0, expected - lat.length),
    p50: percentile(lat, 50), p99: percentile(lat, 99), spanMs: r.last - r.first,
  };
}

/**
 * Open-loop paced load for latency: one binary CloudEvent every 1000/rate ms (no bursts), each
 * stamped with its send time; returns how many were accepted.
 */
export async function paced({ url, tag, rate, seconds }) {
  const period = 1000 / rate;
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const pending = [];
  let ok = 0;
  for (let i = 0; i < total; i++) {
    const due = start + i * period;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json", authorization: `Bearer ${TOKEN}`, "ce-specversion": "1.0", "ce-type": "dev.eddy.bench", "ce-source": "/bench",
          "ce-id": `${tag}-${i}`, "ce-benchtag": tag, "ce-benchsent": String(performance.now()),
        },
        body: '{"bench":true}',
      }).then((r) => { if (r.status < 300) ok++; return r.arrayBuffer(); }, () => undefined),
    );
  }
  await Promise.all(pending);
  return { ok };
}
