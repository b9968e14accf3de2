#!/usr/bin/env node
// `npm run soak -- [--rate 70] [--minutes 5] [--size 1024] [--no-trigger] [--url URL --token T]
//                  [--idle 60] [--gc] [--max-growth 10] [--keep-state] [-- <args for npm start / wrangler dev>]`
// Steady paced load on one Broker with one Trigger to a fast local subscriber, reporting each
// minute the events accepted and delivered and the memory (VmRSS) of the local runtime's
// processes, then the growth after warm-up (end vs. end of the first minute). Without --url it
// starts Eddy with `npm start` on a free port and a fresh state directory, in its own process
// group, and kills that group at the end. A last sample after --idle seconds without load shows
// what the runtime gives back. --gc forces full garbage collections (scripts/soak-runtime.mjs) before
// each sample and judges growth on what is left; without it, on the RSS as it is. Exits 1 when a
// process grew more than --max-growth % under load.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, createServer, request } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { collectGarbage, dirBytes, runtimeProcesses } from "./soak-runtime.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const dashdash = argv.indexOf("--");
const own = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
const passthrough = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
const flag = (name) => own.includes(`--${name}`);
const opt = (name, dflt) => {
  const i = own.indexOf(`--${name}`);
  return i >= 0 && own[i + 1] !== undefined ? own[i + 1] : dflt;
};
const RATE = Number(opt("rate", "70"));
const MINUTES = Number(opt("minutes", "5"));
const SIZE = Number(opt("size", "1024"));
const MAX_GROWTH = Number(opt("max-growth", "10"));
const TRIGGER = !flag("no-trigger");
const IDLE_S = Number(opt("idle", "60"));
const GC = flag("gc");
const MINUTE_MS = Number(process.env.SOAK_MINUTE_MS ?? 60_000); // shorter "minutes" for a quick try
if (!(RATE > 0 && MINUTES >= 2 && SIZE >= 0)) {
  console.error("[soak] need --rate > 0, --minutes >= 2 (growth is measured from the end of the first minute) and --size >= 0");
  process.exit(2);
}
const say = (m) => console.log(`[soak] ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const mb = (b) => (b / 1048576).toFixed(1);

// ---- the runtime: started here, or an existing one ----
let group = null;
let stateDir = opt("persist-to", null);
let logTail = "";
async function startEddy() {
  const port = Number(opt("port", 0)) || (await freePort());
  stateDir ??= mkdtempSync(join(tmpdir(), "eddy-soak-"));
  const args = ["start", "--", "--port", String(port), "--persist-to", stateDir, "--inspector-port", String(await freePort()), ...passthrough];
  say(`starting: npm ${args.join(" ")}`);
  const child = spawn("npm", args, { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  group = child;
  const keep = (d) => (logTail = (logTail + d).slice(-20_000));
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  for (const until = Date.now() + 120_000; Date.now() < until; await sleep(300)) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${logTail}`);
    if ((await fetch(`${url}/healthz`).catch(() => null))?.ok) return { url, port };
  }
  throw new Error(`Eddy did not answer ${url}/healthz within 120 s:\n${logTail}`);
}

async function stopEddy() {
  if (!group || group.exitCode !== null) return;
  const gone = new Promise((r) => group.once("exit", r));
  try {
    process.kill(-group.pid, "SIGINT");
  } catch {
    return;
  }
  await Promise.race([gone, sleep(10_000)]);
  try {
    process.kill(-group.pid, "SIGKILL"); // workerd can outlive npm
  } catch {
    // the whole group is gone
  }
}

// ---- the subscriber: fast, local, counting ----
let delivered = 0;
const sink = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    if (req.headers["ce-id"]) delivered++;
    res.writeHead(200).end();
  });
});
sink.keepAliveTimeout = 30_000;

let cleaning = null;
async function cleanup(api) {
  cleaning ??= (async () => {
    if (api && !group) await api.removeAll().catch((e) => say(`could not delete the soak objects: ${e.message}`));
    await stopEddy();
    sink.closeAllConnections();
    sink.close();
    if (stateDir && !opt("persist-to", null) && !flag("keep-state")) rmSync(stateDir, { recursive: true, force: true });
  })();
  return cleaning;
}

async function main() {
  let target;
  if (opt("url", null)) {
    const url = opt("url").replace(/\/$/, "");
    target = { url, port: Number(new URL(url).port || 80) };
  } else {
    target = await startEddy();
  }
  const devVars = join(root, ".dev.vars");
  const token = opt("token", null) ?? /^ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?\s*$/m.exec(existsSync(devVars) ? readFileSync(devVars, "utf8") : "")?.[1];
  if (!token) throw new Error(`no control-plane token: pass --token, or run npm start once so ${devVars} holds ADMIN_TOKEN`);
  await new Promise((r) => sink.listen(0, "127.0.0.1", r));
  const sinkUrl = `http://127.0.0.1:${sink.address().port}/`;
  const ns = `soak-${Math.random().toString(36).slice(2, 8)}`;
  const api = makeApi(target.url, token, ns);
  process.on("SIGINT", () => void cleanup(api).then(() => process.exit(130)));
  process.on("SIGTERM", () => void cleanup(api).then(() => process.exit(143)));
  try {
    await run(target, api, sinkUrl, ns);
  } finally {
    await cleanup(api);
  }
}

function makeApi(base, token, ns) {
  const call = async (method, path, body) => {
    const r = await fetch(base + path, { method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: body && JSON.stringify(body) });
    const text = await r.text();
    if (r.status >= 300 && !(method === "DELETE" && r.status === 404)) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const E = `/apis/eventing.knative.dev/v1/namespaces/${ns}`;
  return {
    token,
    call,
    broker: () => call("PUT", `${E}/brokers/soak`, { apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name: "soak", namespace: ns } }),
    trigger: (uri) => call("PUT", `${E}/triggers/soak`, { apiVersion: "eventing.knative.dev/v1", kind: "Trigger", metadata: { name: "soak", namespace: ns }, spec: { broker: "soak", subscriber: { uri } } }),
    triggerReady: async () => (await call("GET", `${E}/triggers/soak`)).status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    stats: () => call("GET", `${E}/brokers/soak/stats`),
    removeAll: async () => {
      await call("DELETE", `${E}/triggers/soak`);
      await call("DELETE", `${E}/brokers/soak`);
    },
  };
}

async function run(target, api, sinkUrl, ns) {
  const b = await api.broker();
  const ingress = new URL(b.status.address.url);
  if (TRIGGER) {
    await api.trigger(sinkUrl);
    for (let i = 0; !(await api.triggerReady()); i++) {
      if (i > 100) throw new Error("the soak Trigger did not become Ready within 10 s");
      await sleep(100);
    }
  }
  const procs = () => runtimeProcesses(target.port);
  const labels = procs().map((x) => x.label);
  if (!labels.length) say(`no local runtime process serves port ${target.port}: memory is not measured`);
  say(`${RATE} events/s of ${SIZE} bytes for ${MINUTES} min into ${ingress.pathname}${TRIGGER ? ` -> Trigger -> ${sinkUrl}` : " (no Trigger: every event is dropped as no-matching-trigger)"}`);
  say(`processes: ${procs().map((x) => `${x.label} pid ${x.p.pid}`).join(", ")}`);

  // ---- paced load over keep-alive connections ----
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  // Exactly --size bytes of JSON: `{"pad":""}` is 10 bytes before the padding.
  const payload = Buffer.from(SIZE >= 10 ? JSON.stringify({ pad: "x".repeat(SIZE - 10) }) : "{}");
  let sent = 0, accepted = 0, failed = 0, inflight = 0, skipped = 0;
  const failures = new Map();
  let resent = 0;
  const count = (key) => {
    failed++;
    failures.set(key, (failures.get(key) ?? 0) + 1);
  };
  const send = (id = `soak-${++sent}`, again = false) => {
    if (!again) inflight++;
    const req = request({
      host: ingress.hostname, port: ingress.port, path: ingress.pathname, method: "POST", agent,
      // The admin token is also a sender, which the ingress wants unless authentication is off.
      headers: { authorization: `Bearer ${api.token}`, "content-type": "application/json", "content-length": payload.length, "ce-specversion": "1.0", "ce-id": id, "ce-source": "/soak", "ce-type": "dev.eddy.soak" },
    }, (res) => {
      res.resume();
      res.on("end", () => {
        inflight--;
        if (res.statusCode === 202) accepted++;
        else count(res.statusCode);
      });
    });
    req.on("error", (e) => {
      // A kept-alive socket the server closed just as this request went out: nothing reached
      // Eddy, so the event is sent once more (as Node's documentation advises for reused sockets).
      if (req.reusedSocket && e.code === "ECONNRESET" && !again) {
        resent++;
        return send(id, true);
      }
      inflight--;
      count(e.code ?? e.message);
    });
    req.end(payload);
  };
  const t0 = Date.now();
  const end = t0 + MINUTES * MINUTE_MS;
  const pacer = setInterval(() => {
    const due = Math.floor(((Math.min(Date.now(), end) - t0) / 1000) * RATE) - sent - skipped;
    for (let i = 0; i < due; i++) {
      if (inflight >= 1000) skipped++; // never pile up without bound when the runtime stalls
      else send();
    }
  }, 20);

  const samples = [];
  const header = ["min", "accepted", "delivered", "failed", ...labels.map((l) => `${l} MB`), ...(stateDir ? ["state MB"] : [])];
  if (GC) say("with --gc, a figure in parentheses is the RSS right after a full GC of that process's isolates");
  console.log(header.join("\t"));
  let missed = new Set();
  let runtimeGone = false;
  const collectedIn = new Set(); // processes whose isolates a full GC reached
  const sample = async (minute) => {
    const rss = Object.fromEntries(procs().map((x) => [x.label, x.p.rss]));
    let kept = rss;
    if (GC) {
      const r = await collectGarbage(procs().filter((x) => x.label.startsWith("workerd")).map((x) => x.p.pid));
      for (const id of r.missed) missed.add(id);
      for (const x of procs()) if (r.reached.has(x.p.pid)) collectedIn.add(x.label);
      kept = Object.fromEntries(procs().map((x) => [x.label, x.p.rss]));
    }
    samples.push({ minute, rss, kept });
    const gone = labels.filter((l) => !rss[l]);
    if (gone.length && !runtimeGone) {
      runtimeGone = true;
      say(`${gone.join(", ")} exited${group ? `; the end of npm start's output:\n${logTail.split("\n").slice(-30).join("\n")}` : ""}`);
    }
    const cell = (l) => (!rss[l] ? "gone" : collectedIn.has(l) ? `${mb(rss[l])} (${mb(kept[l])})` : mb(rss[l]));
    console.log([minute, accepted, delivered, failed, ...labels.map(cell), ...(stateDir ? [mb(dirBytes(stateDir))] : [])].join("\t"));
  };
  await sample(0);
  for (let m = 1; m <= MINUTES; m++) {
    await sleep(t0 + m * MINUTE_MS - Date.now());
    await sample(m);
  }
  clearInterval(pacer);
  for (let i = 0; i < 300 && (inflight > 0 || (TRIGGER && delivered < accepted)); i++) await sleep(100);
  agent.destroy();
  // Memory the runtime gives back once idle is garbage it had not collected yet, not a leak.
  if (IDLE_S > 0) {
    await sleep(IDLE_S * 1000);
    await sample(`idle ${IDLE_S}s`);
    samples.pop();
  }

  if (failures.size) say(`failed sends: ${[...failures].map(([k, v]) => `${k}×${v}`).join(", ")}`);
  if (resent) say(`${resent} events sent again after the server closed an idle kept-alive connection under them`);
  if (skipped) say(`${skipped} events not sent: 1000 requests were already waiting for an answer`);
  const stats = await api.stats().catch((e) => ({ error: e.message }));
  say(`broker counters: ${JSON.stringify(stats.counters ?? stats)}; delivered to the sink: ${delivered} of ${accepted} accepted`);

  if (missed.size) say(`isolates no full GC reached (a debugger holds them, or no inspector): ${[...missed].join(", ")}`);
  let worst = 0;
  for (const key of GC ? ["rss", "kept"] : ["rss"]) {
    const warm = samples[1][key];
    const last = samples[samples.length - 1][key];
    for (const l of labels) {
      // Judged after a full GC where one reached the process, on its RSS where none could.
      if (!warm[l] || !last[l] || (key === "kept" && !collectedIn.has(l))) continue;
      const grew = last[l] - warm[l];
      const pct = (grew / warm[l]) * 100;
      if (key === "kept" || !collectedIn.has(l)) worst = Math.max(worst, pct);
      const what = key === "kept" ? "after a full GC" : "RSS";
      say(`${l}, ${what}: ${mb(warm[l])} MB after minute 1 -> ${mb(last[l])} MB after minute ${MINUTES}: ${grew >= 0 ? "+" : ""}${mb(grew)} MB (${pct.toFixed(1)}%)`);
    }
  }
  if (runtimeGone) {
    say("the runtime exited during the soak: no verdict on memory");
    process.exitCode = 2;
  } else if (worst > MAX_GROWTH) {
    say(`memory grew ${worst.toFixed(1)}% after warm-up, more than --max-growth ${MAX_GROWTH}%`);
    process.exitCode = 1;
  } else if (labels.length) {
    say(`memory flat after warm-up: at most ${worst.toFixed(1)}% growth (limit ${MAX_GROWTH}%)`);
  }
}

main().catch(async (e) => {
  console.error(`[soak] ${e.message}`);
  await cleanup(null);
  process.exit(2);
});
