#!/usr/bin/env node
// A CPU profile of Eddy's Worker isolate (ingress and Durable Objects share it under workerd) while
// a closed loop posts binary CloudEvents to a Broker with N Triggers (or a channel with N
// Subscriptions): `node bench/profile.mjs [broker|channel] [N] [seconds]`. Prints self time by
// function and by category, and writes the .cpuprofile (open it in Chrome DevTools) to /tmp.
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import WebSocket from "ws";
import { drain, load, startEddy, startSink } from "./lib.mjs";
import { bundle } from "./quick.mjs";
import { brokerWithTriggers, channelWithSubscriptions } from "./resources.mjs";

const [kind = "broker", nArg = "1", secArg = "6"] = process.argv.slice(2);
const n = Number(nArg);
const seconds = Number(secArg);

const freePort = () => new Promise((ok) => { const s = createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => ok(p)); }); });

async function cdp(port) {
  let targets = [];
  for (let i = 0; i < 50 && !targets.length; i++) {
    targets = await fetch(`http://127.0.0.1:${port}/json`).then((r) => r.json()).catch(() => []);
    if (!targets.length) await new Promise((r) => setTimeout(r, 100));
  }
  const t = targets.find((x) => /eddy/.test(x.title ?? x.id ?? "") || /eddy/.test(x.webSocketDebuggerUrl)) ?? targets[0];
  console.log("targets:", targets.map((x) => x.title ?? x.id).join(", "), "→", t.title ?? t.id);
  const ws = new WebSocket(t.webSocketDebuggerUrl.replace("localhost", "127.0.0.1"));
  await new Promise((ok, ko) => { ws.once("open", ok); ws.once("error", ko); });
  let id = 0;
  const pending = new Map();
  ws.on("message", (m) => { const msg = JSON.parse(m.toString()); if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); } });
  const send = (method, params = {}) => new Promise((ok) => { const i = ++id; pending.set(i, ok); ws.send(JSON.stringify({ id: i, method, params })); });
  return { send, close: () => ws.close() };
}

function summarize(profile) {
  const byId = new Map(profile.nodes.map((nd) => [nd.id, nd]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const nd = byId.get(profile.samples[i]);
    self.set(nd, (self.get(nd) ?? 0) + (dt[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map();
  for (const [nd, t] of self) {
    const cf = nd.callFrame;
    const key = `${cf.functionName || "(anonymous)"} ${cf.url ? cf.url.split("/").pop() + ":" + (cf.lineNumber + 1) : ""}`;
    byFn.set(key, (byFn.get(key) ?? 0) + t);
  }
  const idle = [...self].filter(([nd]) => nd.callFrame.functionName === "(idle)").reduce((a, [, t]) => a + t, 0);
  console.log(`\nsampled ${(total / 1000).toFixed(0)} ms, idle ${(100 * idle / total).toFixed(1)}%; busy shares below are of non-idle time`);
  const busy = total - idle;
  const top = [...byFn].filter(([k]) => !k.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, 45);
  for (const [k, t] of top) console.log(`${(100 * t / busy).toFixed(1).padStart(5)}%  ${k}`);
  // Inclusive time for some interesting frames.
  const children = new Map(profile.nodes.map((nd) => [nd.id, nd.children ?? []]));
  const selfById = new Map([...self].map(([nd, t]) => [nd.id, t]));
  const incl = (id) => (selfById.get(id) ?? 0) + children.get(id).reduce((a, c) => a + incl(c), 0);
  const inclByName = new Map();
  const walk = (id, onStack) => {
    const nd = byId.get(id);
    const name = nd.callFrame.functionName;
    if (name && !onStack.has(name)) inclByName.set(name, (inclByName.get(name) ?? 0) + incl(id));
    const next = new Set(onStack); if (name) next.add(name);
    for (const c of children.get(id)) walk(c, next);
  };
  walk(profile.nodes[0].id, new Set());
  // Self time by where it was spent: the first rule whose function is on the sample's stack.
  const parent = new Map();
  for (const nd of profile.nodes) for (const c of nd.children ?? []) parent.set(c, nd.id);
  const rules = [
    ["object: record (filters, event and delivery rows)", ["record", "fanOut"]],
    ["object: settle (outcomes, rows removed, due rows)", ["settle"]],
    ["object: group commit, other", ["transactionSync"]],
    ["attempt (request out, answer read)", ["attempt", "runLocal"]],
    ["queue consumer", ["consumeDeliveries"]],
    ["ingress: parse", ["parseMessage"]],
    ["ingress: sender's token", ["authenticate"]],
    ["ingress: body", ["readBody"]],
    ["ingress: RPC to the object", ["publishTo"]],
    ["ingress: other", ["directIngress", "answer", "sink", "sinkTo", "discardUnreadBody", "dispatch"]],
  ];
  const buckets = new Map();
  for (const [nd, t] of self) {
    const name = nd.callFrame.functionName;
    if (name === "(idle)") continue;
    const stack = [];
    for (let cur = nd.id; cur !== undefined; cur = parent.get(cur)) stack.push(byId.get(cur).callFrame.functionName);
    const hit = rules.find(([, fns]) => stack.some((f) => fns.includes(f)));
    const b = hit ? hit[0] : name.startsWith("(") ? `runtime ${name}` : "other";
    buckets.set(b, (buckets.get(b) ?? 0) + t);
  }
  console.log("\nby where (self time):");
  for (const [k, t] of [...buckets].sort((a, b) => b[1] - a[1])) console.log(`${(100 * t / busy).toFixed(1).padStart(5)}%  ${k}`);
  console.log("\ninclusive (top 45 by name):");
  for (const [k, t] of [...inclByName].filter(([k]) => !k.startsWith("(")).sort((a, b) => b[1] - a[1]).slice(0, 45)) console.log(`${(100 * t / busy).toFixed(1).padStart(5)}%  ${k}`);
}

async function main() {
  const { script, workerOptions } = await bundle();
  const sink = await startSink();
  const port = await freePort();
  const eddy = await startEddy(script, { ...workerOptions, inspectorPort: port });
  try {
    const url = kind === "channel" ? await channelWithSubscriptions(eddy, `p${n}`, n, sink.url) : await brokerWithTriggers(eddy, `p${n}`, n, sink.url);
    await load({ url, tag: "warm", connections: 4, seconds: 1 });
    await drain(sink, "warm", 1, 10_000);
    const c = await cdp(port);
    await c.send("Profiler.enable");
    await c.send("Profiler.setSamplingInterval", { interval: 200 });
    await c.send("Profiler.start");
    const t0 = performance.now();
    const ing = await load({ url, tag: "prof", connections: 16, seconds });
    const d = await drain(sink, "prof", ing.ok * n, 60_000);
    const wall = (sink.runs.get("prof").last - t0) / 1000;
    const { result } = await c.send("Profiler.stop");
    c.close();
    console.log(`ingress ${(ing.ok / seconds).toFixed(0)}/s, delivered ${(d.delivered / n / wall).toFixed(0)} events/s, lost ${d.lost}`);
    const file = `/tmp/eddy-${kind}${n}-${Date.now()}.cpuprofile`;
    writeFileSync(file, JSON.stringify(result.profile));
    console.log("profile:", file);
    summarize(result.profile);
  } finally {
    await eddy.stop();
    await sink.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
