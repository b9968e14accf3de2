#!/usr/bin/env node
// A/B of two builds of Eddy on this machine, alternating short runs so both see the same load:
// `node bench/ab.mjs <other work tree> [one|ten|fan100] [rounds]`. Prints, per build, the median
// workerd CPU per event and events/s delivered (a Broker with 1 or 10 Triggers, or a channel with
// 100 Subscriptions). CPU per event moves less with the machine's load than throughput does.
// The other tree needs node_modules and dist/console, e.g.
// `git archive <commit> | tar -x -C /tmp/ref && ln -s $PWD/node_modules /tmp/ref/ && cp -r dist /tmp/ref/`.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { drain, load, startEddy, startSink, workerdCpu } from "./lib.mjs";
import { brokerWithTriggers, channelWithSubscriptions } from "./resources.mjs";

const here = join(dirname(fileURLToPath(import.meta.url)), "..");
const [other, row = "one", roundsArg = "5"] = process.argv.slice(2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);

function bundleOf(root) {
  const dist = mkdtempSync(join(tmpdir(), "eddy-ab-"));
  execFileSync(join(here, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", dist], { cwd: root, stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  return { script: join(dist, "index.js"), workerOptions: unstable_getMiniflareWorkerOptions(join(root, "wrangler.toml")).workerOptions };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const sink = await startSink();
  const builds = [];
  for (const [label, root] of [["this", here], ["other", resolve(other)]]) {
    const b = bundleOf(root);
    const before = Object.keys(workerdCpu());
    const eddy = await startEddy(b.script, b.workerOptions);
    const pid = Object.keys(workerdCpu()).find((k) => !before.includes(k));
    const n = row === "ten" ? 10 : row === "fan100" ? 100 : 1;
    const url = row === "fan100" ? await channelWithSubscriptions(eddy, "ab", 100, sink.url) : await brokerWithTriggers(eddy, "ab", n, sink.url);
    await load({ url, tag: `${label}-warm`, connections: 4, seconds: 1 });
    await drain(sink, `${label}-warm`, n, 20_000);
    builds.push({ label, root, eddy, pid, url, n, cpu: [], rate: [] });
  }
  try {
    for (let i = 0; i < Number(roundsArg); i++) {
      for (const b of builds) {
        const tag = `${b.label}-${i}`;
        const c0 = workerdCpu()[b.pid];
        const t0 = performance.now();
        const amount = b.n === 100 ? 40 : undefined;
        const ing = await load({ url: b.url, tag, connections: 16, ...(amount ? { amount } : { seconds: SECONDS }) });
        const d = await drain(sink, tag, ing.ok * b.n, 120_000);
        const wall = (sink.runs.get(tag).last - t0) / 1000;
        const cpuMs = (workerdCpu()[b.pid] - c0) * 1000;
        b.cpu.push((cpuMs * 1000) / ing.ok);
        b.rate.push(d.delivered / b.n / wall);
        if (d.lost) console.log(`${tag}: lost ${d.lost}`);
      }
    }
    for (const b of builds) console.log(`${b.label.padEnd(6)} ${row}: CPU/event median ${median(b.cpu).toFixed(0)}µs [${b.cpu.map((x) => x.toFixed(0)).join(" ")}], delivered events/s median ${median(b.rate).toFixed(1)} [${b.rate.map((x) => x.toFixed(0)).join(" ")}]`);
  } finally {
    for (const b of builds) await b.eddy.stop();
    await sink.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
