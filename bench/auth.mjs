// `npm run bench` row for sender identity: ingress with token verification against ingress without.
// Two fresh Eddy instances from the same bundle, set up alike — one with AUTHENTICATION_OIDC
// disabled, one as deployed — each with a Broker and one Trigger; runs alternate between them
// (rounds), each drained before the next, and the medians are reported. Producers reuse their token,
// as real ones do. Beside it, the verification itself without HTTP (bench/tokens.ts).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { drain, load, startEddy, TOKEN } from "./lib.mjs";

async function tokenBench() {
  const out = join(mkdtempSync(join(tmpdir(), "eddy-tbench-")), "tokens.mjs");
  await build({ entryPoints: [join(dirname(fileURLToPath(import.meta.url)), "tokens.ts")], bundle: true, format: "esm", platform: "neutral", outfile: out, logLevel: "warning" });
  return (await import(out)).tokenBench();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function call(eddy, method, path, body) {
  const r = await fetch(eddy.url + path, { method, headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

/** A ServiceAccount token for `audience`, as `kubectl create token` gets one. */
async function serviceAccountToken(eddy, ns, audience) {
  await call(eddy, "PUT", `/api/v1/namespaces/${ns}/serviceaccounts/producer`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "producer" } });
  const r = await call(eddy, "POST", `/api/v1/namespaces/${ns}/serviceaccounts/producer/token`, { spec: { audiences: [audience], expirationSeconds: 3600 } });
  return r.status.token;
}

/**
 * @param {object} o
 * @param {(eddy: { url: string }, name: string, n: number, sinkUrl: string) => Promise<string>} o.brokerWithTriggers
 */
export async function authBench({ bundle, workerOptions, sink, brokerWithTriggers, seconds, connections, rounds = 3 }) {
  const off = await startEddy(bundle, workerOptions, { AUTHENTICATION_OIDC: "disabled" });
  const eddy = await startEddy(bundle, workerOptions);
  try {
    const onUrl = await brokerWithTriggers(eddy, "auth", 1, sink.url);
    const offUrl = await brokerWithTriggers(off, "auth", 1, sink.url);
    const jwt = await serviceAccountToken(eddy, "bench", "eventing.knative.dev/broker/bench/auth");
    const variants = {
      noVerification: { url: offUrl, auth: null },
      tokenVerification: { url: onUrl, auth: `Bearer ${jwt}` },
      adminToken: { url: onUrl, auth: `Bearer ${TOKEN}` },
    };
    for (const [name, v] of Object.entries(variants)) await load({ url: v.url, tag: `warm-auth-${name}`, connections: 4, seconds: 1, auth: v.auth });
    const runs = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    for (let i = 0; i < rounds; i++) {
      for (const [name, v] of Object.entries(variants)) {
        const tag = `auth-${name}-${i}`;
        const r = await load({ url: v.url, tag, connections, seconds, auth: v.auth });
        // A refused request would make the row meaningless: stop with the reason instead.
        if (r.non2xx > 0 || r.ok === 0) throw new Error(`${tag}: ${r.non2xx} of ${r.sent} requests were refused (${r.ok} accepted)`);
        await drain(sink, tag, r.ok, 120_000);
        runs[name].push({ eventsPerSec: r.ok / seconds, p50Ms: r.p50, p99Ms: r.p99 });
      }
    }
    const out = {};
    for (const [name, list] of Object.entries(runs)) {
      out[name] = {
        eventsPerSec: Math.round(median(list.map((x) => x.eventsPerSec)) * 10) / 10,
        p50Ms: median(list.map((x) => x.p50Ms)), p99Ms: median(list.map((x) => x.p99Ms)), runs: list.length,
      };
    }
    out.costPercent = Math.round((1 - out.tokenVerification.eventsPerSec / out.noVerification.eventsPerSec) * 1000) / 10;
    out.micro = await tokenBench();
    return out;
  } finally {
    await off.stop();
    await eddy.stop();
  }
}

/** The table rows for docs/performance.md. */
export function renderAuth(a) {
  const row = (label, x) => `| ${label} | ${x.eventsPerSec} | ${x.p50Ms} / ${x.p99Ms} |`;
  return [
    "",
    `| ingress, Broker with 1 Trigger (median of ${a.noVerification.runs} alternating runs) | accepted events/s | 202 p50 / p99 ms |`,
    "| --- | --- | --- |",
    row("AUTHENTICATION_OIDC disabled (no token checked)", a.noVerification),
    row("ServiceAccount token (JWT) verified", a.tokenVerification),
    row("admin token", a.adminToken),
    `| cost of token verification | ${a.costPercent}% of throughput | |`,
    "",
    "| token work without HTTP (Node, one ES256 key) | µs per call |",
    "| --- | --- |",
    `| verify a token new to the isolate (signature and claims) | ${a.micro.firstVerifyUs} |`,
    `| verify a token seen before (claims only) | ${a.micro.cachedVerifyUs} |`,
    `| token for a delivery, from the cache | ${a.micro.deliveryTokenUs} |`,
  ];
}
