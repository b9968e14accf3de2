#!/usr/bin/env node
// `npm run bench`: measures Eddy's bundled Worker under plain Miniflare over HTTP (request logging
// off) beside a no-op Worker on the same runtime, with a local sink and a bounded load generator.
// Writes bench/results/<timestamp>.json and the table in docs/performance.md.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { drain, load, paced, startBaseline, startEddy, startSink } from "./lib.mjs";
import { authBench, renderAuth } from "./auth.mjs";
import { archiveBench, renderArchive } from "./archive.mjs";
import { renderFloor } from "./floor.mjs";
import { api, brokerWithTriggers, channelWithSubscriptions } from "./resources.mjs";
import { floorMeter, meterOf, perEvent, renderCosts, settled } from "./meter.mjs";
import { renderSlow, slowSubscriber } from "./slow.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
/** Offered rate of the latency runs, in deliveries per second. */
const RATE = Number(process.env.BENCH_RATE ?? 200);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 5);
/** Deliveries per channel fan-out row: the event count is this divided by the fan-out. */
const FANOUT_DELIVERIES = Number(process.env.BENCH_FANOUT_DELIVERIES ?? 12000);

function step(msg) {
  console.log(`[bench] ${msg}`);
}

/**
 * Two runs per target. Throughput: closed loop at CONNECTIONS for SECONDS, then wait for every
 * delivery; rates are per second of wall time from the first POST to the last arrival. Latency: a
 * fixed, evenly paced rate well below capacity, so POST→arrival reflects the path and not a backlog.
 */
async function measure(sink, url, tag, fanout, amount, meter) {
  const before = meter ? await meter.read() : undefined;
  const t0 = performance.now();
  const ingress = await load({ url, tag, connections: CONNECTIONS, ...(amount ? { amount } : { seconds: SECONDS }) });
  refused(tag, ingress);
  const expected = ingress.ok * fanout;
  const d = await drain(sink, tag, expected, 120_000);
  // What the throughput run cost, once its deliveries are settled (their rows' deletes counted).
  const cost = meter ? perEvent(before, await meter.settle(), ingress.ok) : undefined;
  const r = sink.runs.get(tag);
  const wallS = r ? (r.last - t0) / 1000 : NaN;
  const rate = Math.max(2, Math.round(RATE / fanout));
  const lt = await paced({ url, tag: `${tag}-lat`, rate, seconds: LATENCY_SECONDS });
  const l = await drain(sink, `${tag}-lat`, lt.ok * fanout, 60_000);
  return {
    ingress: { eventsPerSec: round(ingress.ok / (amount ? ingress.durationS : SECONDS)), p50Ms: ingress.p50, p99Ms: ingress.p99, non2xx: ingress.non2xx, errors: ingress.errors },
    delivery: {
      deliveredPerSec: round(d.delivered / wallS),
      eventsPerSec: round(d.delivered / fanout / wallS),
      delivered: d.delivered,
      expected,
      duplicates: d.duplicates + l.duplicates,
      lost: d.lost + l.lost,
    },
    latency: { offeredEventsPerSec: rate, p50Ms: round(l.p50), p99Ms: round(l.p99), delivered: l.delivered, expected: lt.ok * fanout },
    ...(cost ? { cost, costEvents: ingress.ok } : {}),
  };
}

/** A meter for `measure`: an Eddy owner's, read from its /stats, or the floor's. */
function eddyMeter(eddy, kind, name) {
  return { read: () => meterOf(eddy, kind, name), settle: () => settled(eddy, kind, name) };
}
function floorOf(base) {
  // The floor deletes each row as its last answer comes: a moment after the sink counted it.
  return { read: () => floorMeter(base), settle: async () => (await new Promise((r) => setTimeout(r, 300)), floorMeter(base)) };
}

/** Closed-loop `amount` events into an owner, drained and settled: what it cost per event, and duplicates. */
async function costRun(eddy, sink, { url, kind, name, tag, amount, fanout = 1, keys }) {
  const before = await meterOf(eddy, kind, name);
  const t0 = performance.now();
  const ingress = await load({ url, tag, connections: CONNECTIONS, amount, keys });
  refused(tag, ingress);
  const d = await drain(sink, tag, ingress.ok * fanout, 120_000);
  const after = await settled(eddy, kind, name, 120_000);
  const r = sink.runs.get(tag) ?? { last: t0 };
  return {
    events: ingress.ok, cost: perEvent(before, after, ingress.ok), deliveredPerSec: round(d.delivered / ((r.last - t0) / 1000)),
    duplicates: d.duplicates, lost: d.lost, counters: after.counters,
  };
}

/** Closed-loop throughput only: ingress events/s, and delivered events/s from the first POST to the last arrival. */
async function throughput(sink, url, tag, { keys } = {}) {
  const t0 = performance.now();
  const ingress = await load({ url, tag, connections: CONNECTIONS, seconds: SECONDS, keys });
  refused(tag, ingress);
  const d = await drain(sink, tag, ingress.ok, 120_000);
  const r = sink.runs.get(tag) ?? { last: t0 };
  return {
    ingressPerSec: round(ingress.ok / SECONDS), deliveredPerSec: round(d.delivered / ((r.last - t0) / 1000)),
    delivered: d.delivered, expected: ingress.ok, duplicates: d.duplicates, lost: d.lost,
  };
}

/** A row whose requests were refused measures nothing: stop with the reason rather than print it. */
function refused(tag, r) {
  if (r.non2xx > 0 || r.ok === 0) throw new Error(`${tag}: ${r.non2xx} of ${r.sent} requests were refused (${r.ok} accepted); the figures would be meaningless`);
}

function round(x) {
  return Math.round(x * 10) / 10;
}

async function filterBench() {
  const out = join(mkdtempSync(join(tmpdir(), "eddy-fbench-")), "filters.mjs");
  await build({ entryPoints: [join(root, "bench/filters.ts")], bundle: true, format: "esm", platform: "neutral", outfile: out, logLevel: "warning" });
  const mod = await import(out);
  return mod.filterBench({ durationMs: 300 });
}

async function main() {
  step("bundling the Worker (wrangler deploy --dry-run)");
  const dist = mkdtempSync(join(tmpdir(), "eddy-dist-"));
  execFileSync(join(root, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", dist], {
    cwd: root, stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(root, "wrangler.toml"));

  const sink = await startSink();
  const eddy = await startEddy(join(dist, "index.js"), workerOptions);
  const identity = () => authBench({ bundle: join(dist, "index.js"), workerOptions, sink, brokerWithTriggers, seconds: SECONDS, connections: CONNECTIONS });
  if (process.env.BENCH_ONLY === "auth") {
    // Just the identity row, printed, nothing written: `BENCH_ONLY=auth npm run bench`.
    try {
      console.log(renderAuth(await identity()).join("\n"));
    } finally {
      await eddy.stop();
      await sink.close();
    }
    return;
  }
  if (process.env.BENCH_ONLY === "archive") {
    // Just the archive rows, printed, nothing written: `BENCH_ONLY=archive npm run bench`.
    try {
      console.log(renderArchive(await archiveBench({ eddy, api, sink, brokerWithTriggers, throughput })).join("\n"));
    } finally {
      await eddy.stop();
      await sink.close();
    }
    return;
  }
  const base = await startBaseline(sink.url);
  const results = { date: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version, loadavg: loadavg() }, seconds: SECONDS, connections: CONNECTIONS, rows: {} };
  try {
    const one = await brokerWithTriggers(eddy, "one", 1, sink.url);
    const ten = await brokerWithTriggers(eddy, "ten", 10, sink.url);
    // Warm both runtimes so the first run does not pay for compilation and object creation.
    await load({ url: one, tag: "warm-eddy", connections: 4, seconds: 1 });
    await load({ url: `${base.url}/relay?n=1`, tag: "warm-base", connections: 4, seconds: 1 });
    await drain(sink, "warm-eddy", 1, 10_000);

    step("no-op Worker: ingress ceiling");
    const noop = await load({ url: `${base.url}/noop`, tag: "noop", connections: CONNECTIONS, seconds: SECONDS });
    results.rows.noopIngress = { eventsPerSec: round(noop.ok / SECONDS), p50Ms: noop.p50, p99Ms: noop.p99 };

    step("Eddy: Broker with 1 Trigger");
    results.rows.eddy1 = await measure(sink, one, "eddy1", 1, undefined, eddyMeter(eddy, "brokers", "one"));
    step("relay Worker: 1 delivery per request (ceiling)");
    results.rows.relay1 = await measure(sink, `${base.url}/relay?n=1`, "relay1", 1);
    step("durable relay: the contract's floor, 1 delivery per event");
    results.rows.floor1 = await measure(sink, `${base.url}/durable?n=1`, "floor1", 1, undefined, floorOf(base));
    step("Eddy: Broker with 10 Triggers");
    results.rows.eddy10 = await measure(sink, ten, "eddy10", 10, undefined, eddyMeter(eddy, "brokers", "ten"));
    step("relay Worker: 10 deliveries per request (ceiling)");
    results.rows.relay10 = await measure(sink, `${base.url}/relay?n=10`, "relay10", 10);
    step("durable relay: the contract's floor, 10 deliveries per event");
    results.rows.floor10 = await measure(sink, `${base.url}/durable?n=10`, "floor10", 10, undefined, floorOf(base));
    results.fanout = [];
    for (const n of [1, 10, 100]) {
      const url = await channelWithSubscriptions(eddy, `fan${n}`, n, sink.url);
      const amount = Math.ceil(FANOUT_DELIVERIES / n);
      step(`Eddy: InMemoryChannel with ${n} Subscription(s), ${amount} events`);
      const eddyRow = await measure(sink, url, `chan${n}`, n, amount, eddyMeter(eddy, "inmemorychannels", `fan${n}`));
      step(`relay Worker: ${n} deliveries per request (ceiling)`);
      const relayRow = await measure(sink, `${base.url}/relay?n=${n}`, `crelay${n}`, n, amount);
      step(`durable relay: ${n} deliveries per event (the contract's floor)`);
      const floorRow = await measure(sink, `${base.url}/durable?n=${n}`, `cfloor${n}`, n, amount, floorOf(base));
      results.fanout.push({ subscriptions: n, events: amount, eddy: eddyRow, relay: relayRow, floor: floorRow });
    }
    step("partitions: a Broker with 1 Trigger behind 1, 4 and 16 objects");
    results.partitions = [];
    for (const n of [1, 4, 16]) {
      const url = await brokerWithTriggers(eddy, `part${n}`, 1, sink.url, { partitions: n });
      results.partitions.push({ partitions: n, ...(await throughput(sink, url, `part${n}`)) });
    }
    step("ordering: 100 keys, a subscriber that takes 5 ms, ordered against unordered");
    results.ordering = [];
    for (const mode of ["unordered", "ordered"]) {
      const url = await brokerWithTriggers(eddy, `ord-${mode}`, 1, `${sink.url}delay5/`, { triggerAnnotations: { "eddy.dev/delivery-order": mode } });
      const before = await meterOf(eddy, "brokers", `ord-${mode}`);
      const row = await throughput(sink, url, `ord-${mode}`, { keys: 100 });
      results.ordering.push({ mode, ...row, cost: perEvent(before, await settled(eddy, "brokers", `ord-${mode}`, 120_000), row.expected), costEvents: row.expected });
    }
    step("cost rows: rate-limited, retried, and a slow subscriber");
    results.costs = {};
    const rated = await brokerWithTriggers(eddy, "rated", 1, sink.url, { triggerAnnotations: { "eddy.dev/rate-limit": "400" } });
    results.costs.rated = await costRun(eddy, sink, { url: rated, kind: "brokers", name: "rated", tag: "rated", amount: 2000 });
    const retried = await brokerWithTriggers(eddy, "retried", 1, `${sink.url}failonce/`, { triggerSpec: { delivery: { retry: 3, backoffPolicy: "linear", backoffDelay: "PT0.01S" } } });
    results.costs.retried = await costRun(eddy, sink, { url: retried, kind: "brokers", name: "retried", tag: "retried", amount: 2000 });
    results.slow = await slowSubscriber({ eddy, sink, base, load, drain, meterOf, settled, perEvent, brokerWithTriggers });
    step("archive: ingress with archiving on against off, alternating; then a Replay of the last archived run");
    results.archive = await archiveBench({ eddy, api, sink, brokerWithTriggers, throughput, meter: { meterOf: (name) => meterOf(eddy, "brokers", name), settled: (name) => settled(eddy, "brokers", name, 120_000), perEvent } });
    step("sender identity: ingress with token verification against ingress without, alternating");
    results.auth = await identity();
  } finally {
    await eddy.stop();
    await base.stop();
    await sink.close();
  }
  step("filter evaluation");
  results.filters = await filterBench();

  mkdirSync(join(root, "bench/results"), { recursive: true });
  const file = join(root, "bench/results", `${results.date.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
  writeFileSync(join(root, "bench/results/latest.json"), JSON.stringify(results, null, 2) + "\n");
  const table = render(results);
  writeBetween(join(root, "docs/performance.md"), "bench", table);
  const costs = renderCostTable(results);
  writeBetween(join(root, "docs/costs.md"), "costs", costs);
  console.log("\n" + table + "\n" + costs);
  step(`results: ${file}`);
}

/** Replaces what stands between `<!-- name:start -->` and `<!-- name:end -->` in a doc. */
function writeBetween(docPath, name, text) {
  const doc = readFileSync(docPath, "utf8");
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  writeFileSync(docPath, doc.slice(0, doc.indexOf(start) + start.length) + "\n" + text + doc.slice(doc.indexOf(end)));
}

/** The cost table of docs/costs.md: every delivery row's cost per event, the floor's beside it. */
function renderCostTable(r) {
  const R = r.rows;
  const rows = [];
  const add = (name, row, floor) => row?.cost && rows.push({ name, events: row.costEvents, cost: row.cost, ...(floor?.cost ? { floor: floor.cost } : {}) });
  add("Broker, 1 Trigger", R.eddy1, R.floor1);
  add("Broker, 10 Triggers", R.eddy10, R.floor10);
  for (const f of r.fanout ?? []) add(`InMemoryChannel, ${f.subscriptions} Subscription(s)`, f.eddy, f.floor);
  for (const o of r.ordering ?? []) add(`Broker, 1 Trigger, ${o.mode} (100 keys)`, o);
  if (r.costs?.rated) rows.push({ name: "Broker, 1 Trigger, rate-limited (400/s)", events: r.costs.rated.events, cost: r.costs.rated.cost });
  if (r.costs?.retried) rows.push({ name: "Broker, 1 Trigger, every first attempt fails once (503)", events: r.costs.retried.events, cost: r.costs.retried.cost });
  if (r.archive?.onCost) rows.push({ name: "Broker, 1 Trigger, archive on", events: r.archive.onCost.events, cost: r.archive.onCost.cost });
  if (r.archive?.replayCost) rows.push({ name: "Replay (per replayed event)", events: r.archive.replayCost.events, cost: r.archive.replayCost.cost });
  if (r.slow) rows.push({ name: `slow subscriber (3 s answers, ${r.slow.events} events at once)`, events: r.slow.events, cost: r.slow.cost });
  return [...renderCosts(rows, r.date), ...(r.slow ? renderSlow(r.slow) : [])].join("\n") + "\n";
}

function render(r) {
  const R = r.rows;
  const ratio = (a, b) => (b ? `${(a / b).toFixed(2)}×` : "n/a");
  const lines = [
    `Run ${r.date} · ${r.machine.cpus} cores · Node ${r.machine.node} · load avg at start ${r.machine.loadavg.map((x) => x.toFixed(2)).join(" ")} · ${r.connections} connections × ${r.seconds} s per row`,
    "",
    "| measure | Eddy | ceiling (same runtime) | Eddy / ceiling |",
    "| --- | --- | --- | --- |",
    `| ingress accepted events/s (1 Trigger) | ${R.eddy1.ingress.eventsPerSec} | ${R.noopIngress.eventsPerSec} (no-op Worker) | ${ratio(R.eddy1.ingress.eventsPerSec, R.noopIngress.eventsPerSec)} |`,
    `| ingress 202 p50 / p99 ms | ${R.eddy1.ingress.p50Ms} / ${R.eddy1.ingress.p99Ms} | ${R.noopIngress.p50Ms} / ${R.noopIngress.p99Ms} | ${ratio(R.eddy1.ingress.p50Ms, R.noopIngress.p50Ms)} / ${ratio(R.eddy1.ingress.p99Ms, R.noopIngress.p99Ms)} |`,
    `| 1 Trigger: delivered events/s | ${R.eddy1.delivery.eventsPerSec} | ${R.relay1.delivery.eventsPerSec} (relay Worker) | ${ratio(R.eddy1.delivery.eventsPerSec, R.relay1.delivery.eventsPerSec)} |`,
    `| 1 Trigger: POST→arrival p50 / p99 ms at ${R.eddy1.latency.offeredEventsPerSec} events/s | ${R.eddy1.latency.p50Ms} / ${R.eddy1.latency.p99Ms} | ${R.relay1.latency.p50Ms} / ${R.relay1.latency.p99Ms} | ${ratio(R.eddy1.latency.p50Ms, R.relay1.latency.p50Ms)} / ${ratio(R.eddy1.latency.p99Ms, R.relay1.latency.p99Ms)} |`,
    `| 10 Triggers: delivered events/s (deliveries/s) | ${R.eddy10.delivery.eventsPerSec} (${R.eddy10.delivery.deliveredPerSec}) | ${R.relay10.delivery.eventsPerSec} (${R.relay10.delivery.deliveredPerSec}) | ${ratio(R.eddy10.delivery.eventsPerSec, R.relay10.delivery.eventsPerSec)} |`,
    `| 10 Triggers: POST→arrival p50 / p99 ms at ${R.eddy10.latency.offeredEventsPerSec} events/s | ${R.eddy10.latency.p50Ms} / ${R.eddy10.latency.p99Ms} | ${R.relay10.latency.p50Ms} / ${R.relay10.latency.p99Ms} | ${ratio(R.eddy10.latency.p50Ms, R.relay10.latency.p50Ms)} / ${ratio(R.eddy10.latency.p99Ms, R.relay10.latency.p99Ms)} |`,
    `| deliveries completed / expected (1, 10 Triggers) | ${R.eddy1.delivery.delivered}/${R.eddy1.delivery.expected}, ${R.eddy10.delivery.delivered}/${R.eddy10.delivery.expected} | ${R.relay1.delivery.delivered}/${R.relay1.delivery.expected}, ${R.relay10.delivery.delivered}/${R.relay10.delivery.expected} | |`,
    `| duplicates / lost (1, 10 Triggers) | ${R.eddy1.delivery.duplicates} / ${R.eddy1.delivery.lost}, ${R.eddy10.delivery.duplicates} / ${R.eddy10.delivery.lost} | | |`,
  ];
  if (r.fanout) {
    lines.push("", "| channel fan-out | Eddy delivered events/s (deliveries/s) | ceiling events/s (deliveries/s) | Eddy / ceiling | Eddy POST→arrival p50 / p99 ms | ceiling p50 / p99 ms | at events/s |", "| --- | --- | --- | --- | --- | --- | --- |");
    for (const f of r.fanout) {
      const e = f.eddy;
      const c = f.relay;
      lines.push(`| ${f.subscriptions} Subscription(s), ${f.events} events | ${e.delivery.eventsPerSec} (${e.delivery.deliveredPerSec}) | ${c.delivery.eventsPerSec} (${c.delivery.deliveredPerSec}) | ${ratio(e.delivery.eventsPerSec, c.delivery.eventsPerSec)} | ${e.latency.p50Ms} / ${e.latency.p99Ms} | ${c.latency.p50Ms} / ${c.latency.p99Ms} | ${e.latency.offeredEventsPerSec} |`);
    }
    lines.push(`| duplicates / lost (1, 10, 100 Subscriptions) | ${r.fanout.map((f) => `${f.eddy.delivery.duplicates} / ${f.eddy.delivery.lost}`).join(", ")} | | | | | |`);
    lines.push(`| Broker, 1 and 10 Triggers (same run, above) | ${R.eddy1.delivery.eventsPerSec} and ${R.eddy10.delivery.eventsPerSec} | | | ${R.eddy1.latency.p50Ms} / ${R.eddy1.latency.p99Ms} and ${R.eddy10.latency.p50Ms} / ${R.eddy10.latency.p99Ms} | | |`);
  }
  if (R.floor1) lines.push(...renderFloor(r));
  if (r.partitions) {
    const one = r.partitions[0];
    lines.push("", "| partitions (1 Trigger) | ingress events/s | delivered events/s | vs 1 partition (ingress / delivered) | duplicates / lost |", "| --- | --- | --- | --- | --- |");
    for (const x of r.partitions) {
      lines.push(`| ${x.partitions} | ${x.ingressPerSec} | ${x.deliveredPerSec} | ${ratio(x.ingressPerSec, one.ingressPerSec)} / ${ratio(x.deliveredPerSec, one.deliveredPerSec)} | ${x.duplicates} / ${x.lost} |`);
    }
  }
  if (r.ordering) {
    const un = r.ordering[0];
    lines.push("", "| delivery order (100 keys, 5 ms subscriber) | ingress events/s | delivered events/s | vs unordered | duplicates / lost |", "| --- | --- | --- | --- | --- |");
    for (const x of r.ordering) lines.push(`| ${x.mode} | ${x.ingressPerSec} | ${x.deliveredPerSec} | ${ratio(x.deliveredPerSec, un.deliveredPerSec)} | ${x.duplicates} / ${x.lost} |`);
  }
  if (r.archive) lines.push(...renderArchive(r.archive));
  if (r.auth) lines.push(...renderAuth(r.auth));
  if (r.filters) {
    lines.push("", "| filter | evaluations/s | cost per evaluation vs a no-filter pass |", "| --- | --- | --- |");
    for (const f of r.filters) lines.push(`| ${f.name} | ${Math.round(f.opsPerSec).toLocaleString("en-US")} | ${(1 / f.ratioToNoFilter).toFixed(1)}× |`);
  }
  return lines.join("\n") + "\n";
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
