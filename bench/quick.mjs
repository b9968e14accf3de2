#!/usr/bin/env node
// Selected throughput rows of `npm run bench`, each beside its ceiling in the same run, and nothing
// written: for comparing a change against the one before it. `node bench/quick.mjs ingress one ten fan100`
// (default: all four). BENCH_SECONDS and BENCH_CONNECTIONS as for the full bench; no latency runs.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { drain, load, startBaseline, startEddy, startSink, workerdCpu } from "./lib.mjs";
import { brokerWithTriggers, channelWithSubscriptions } from "./resources.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const rows = process.argv.slice(2).length ? process.argv.slice(2) : ["ingress", "one", "ten", "fan100"];

/** CPU seconds (user + system) of each workerd process this process started, and of this process. */
function cpu() {
  const node = process.cpuUsage();
  return { ...workerdCpu(), node: (node.user + node.system) / 1e6 };
}

const procs = {};
function cpuNote(before, events) {
  const after = cpu();
  return Object.keys(after).map((k) => `${procs[k] ?? k} ${(((after[k] - (before[k] ?? 0)) * 1e6) / events).toFixed(0)}µs`).join(", ");
}

/** Closed loop, then waits for every delivery: events/s from the first POST to the last arrival. */
async function run(sink, url, tag, fanout, amount) {
  const c0 = cpu();
  const t0 = performance.now();
  const ing = await load({ url, tag, connections: CONNECTIONS, ...(amount ? { amount } : { seconds: SECONDS }) });
  if (ing.non2xx || !ing.ok) throw new Error(`${tag}: ${ing.non2xx} refused`);
  const d = await drain(sink, tag, ing.ok * fanout, 120_000);
  const r = sink.runs.get(tag);
  return {
    ingress: ing.ok / (amount ? ing.durationS : SECONDS), delivered: d.delivered / fanout / ((r.last - t0) / 1000), lost: d.lost, dup: d.duplicates,
    cpu: cpuNote(c0, ing.ok),
  };
}

export async function bundle() {
  const dist = mkdtempSync(join(tmpdir(), "eddy-dist-"));
  execFileSync(join(root, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", dist], { cwd: root, stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  return { script: join(dist, "index.js"), workerOptions: unstable_getMiniflareWorkerOptions(join(root, "wrangler.toml")).workerOptions };
}

async function main() {
  const { script, workerOptions } = await bundle();
  const sink = await startSink();
  const before = Object.keys(cpu());
  const eddy = await startEddy(script, workerOptions);
  const mid = Object.keys(cpu());
  for (const k of mid) if (!before.includes(k)) procs[k] = "eddy";
  const base = await startBaseline(sink.url);
  for (const k of Object.keys(cpu())) if (!mid.includes(k)) procs[k] = "ceiling";
  const f = (x) => x.toFixed(1);
  console.log(`load avg ${loadavg().map((x) => x.toFixed(2)).join(" ")} · ${CONNECTIONS} connections × ${SECONDS} s`);
  try {
    const one = await brokerWithTriggers(eddy, "one", 1, sink.url);
    await load({ url: one, tag: "warm-eddy", connections: 4, seconds: 1 });
    await load({ url: `${base.url}/relay?n=1`, tag: "warm-base", connections: 4, seconds: 1 });
    await drain(sink, "warm-eddy", 1, 10_000);
    for (const row of rows) {
      if (row === "ingress") {
        const c0 = cpu();
        const noop = await load({ url: `${base.url}/noop`, tag: "noop", connections: CONNECTIONS, seconds: SECONDS });
        const noopCpu = cpuNote(c0, noop.ok);
        const e = await run(sink, one, "ing-eddy1", 1);
        console.log(`ingress: eddy ${f(e.ingress)} / noop ${f(noop.ok / SECONDS)} = ${(e.ingress / (noop.ok / SECONDS)).toFixed(2)}x; CPU per event: ${e.cpu}; noop run ${noopCpu}`);
      } else if (row === "one" || row === "ten") {
        const n = row === "one" ? 1 : 10;
        const url = n === 1 ? one : await brokerWithTriggers(eddy, "ten", 10, sink.url);
        const e = await run(sink, url, `eddy${n}`, n);
        const c = await run(sink, `${base.url}/relay?n=${n}`, `relay${n}`, n);
        const d = await run(sink, `${base.url}/durable?n=${n}`, `durable${n}`, n);
        console.log(`${n} Trigger(s): delivered eddy ${f(e.delivered)} / relay ${f(c.delivered)} = ${(e.delivered / c.delivered).toFixed(2)}x (eddy ingress ${f(e.ingress)}, lost ${e.lost}, dup ${e.dup}); CPU per event: eddy run ${e.cpu}; relay run ${c.cpu}`);
        console.log(`  durable relay ${f(d.delivered)} = ${(d.delivered / c.delivered).toFixed(2)}x relay (ingress ${f(d.ingress)}, lost ${d.lost}, dup ${d.dup}); eddy / durable relay ${(e.delivered / d.delivered).toFixed(2)}x; CPU per event: ${d.cpu}`);
      } else if (/^fan\d+$/.test(row)) {
        const n = Number(row.slice(3));
        const url = await channelWithSubscriptions(eddy, row, n, sink.url);
        const amount = Math.ceil(Number(process.env.BENCH_FANOUT_DELIVERIES ?? 12000) / n);
        const e = await run(sink, url, `chan${n}`, n, amount);
        const c = await run(sink, `${base.url}/relay?n=${n}`, `crelay${n}`, n, amount);
        const d = await run(sink, `${base.url}/durable?n=${n}`, `cdurable${n}`, n, amount);
        console.log(`${n} Subscription(s): delivered eddy ${f(e.delivered)} / relay ${f(c.delivered)} = ${(e.delivered / c.delivered).toFixed(2)}x (lost ${e.lost}, dup ${e.dup}); CPU per event: eddy run ${e.cpu}; relay run ${c.cpu}`);
        console.log(`  durable relay ${f(d.delivered)} = ${(d.delivered / c.delivered).toFixed(2)}x relay (lost ${d.lost}, dup ${d.dup}); eddy / durable relay ${(e.delivered / d.delivered).toFixed(2)}x; CPU per event: ${d.cpu}`);
      }
    }
  } finally {
    await eddy.stop();
    await base.stop();
    await sink.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main().catch((e) => { console.error(e); process.exit(1); });
