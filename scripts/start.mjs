#!/usr/bin/env node
// `npm start`: runs Eddy locally under `wrangler dev` with persistent local state.
// Makes sure .dev.vars holds an ADMIN_TOKEN, an EDDY_SIGNING_KEY and an EDDY_SECRETS_KEY (writing new ones if not, and
// changing no entry that is there), then starts wrangler on
// 127.0.0.1:8787. Extra arguments go to wrangler: `npm start -- --port 9000`; `--devtools` keeps
// wrangler's DevTools relay, off by default (see inspectorEnv). A port in use stops it with a message.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, appendFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { newSigningKey } from "./signing-key.mjs";
import { newSecretsKey } from "./secrets-key.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const devVars = join(root, ".dev.vars");

function ensureToken() {
  const text = existsSync(devVars) ? readFileSync(devVars, "utf8") : "";
  const m = /^ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?\s*$/m.exec(text);
  if (m) {
    console.log(`[eddy] control-plane token: ADMIN_TOKEN in ${devVars}`);
    return;
  }
  const token = randomBytes(24).toString("hex");
  appendFileSync(devVars, `${text && !text.endsWith("\n") ? "\n" : ""}ADMIN_TOKEN="${token}"\n`, { mode: 0o600 });
  console.log(`[eddy] wrote a new ADMIN_TOKEN to ${devVars}`);
  console.log(`[eddy] use it as: Authorization: Bearer ${token}`);
}

/**
 * Makes sure .dev.vars holds EDDY_SIGNING_KEY, the private JWK Eddy signs tokens with: appends a
 * new one when missing and changes no existing entry (a key already there, ADMIN_TOKEN, secrets).
 */
function ensureSigningKey() {
  const text = existsSync(devVars) ? readFileSync(devVars, "utf8") : "";
  if (/^EDDY_SIGNING_KEY\s*=/m.test(text)) return;
  const jwk = JSON.stringify(newSigningKey());
  // .dev.vars is dotenv: single quotes keep the JSON's double quotes as they are.
  appendFileSync(devVars, `${text && !text.endsWith("\n") ? "\n" : ""}EDDY_SIGNING_KEY='${jwk}'\n`, { mode: 0o600 });
  console.log(`[eddy] wrote a new token signing key (EDDY_SIGNING_KEY, ES256) to ${devVars}`);
}

/** Makes sure .dev.vars holds EDDY_SECRETS_KEY, which seals Secrets at rest (added when missing, nothing changed). */
function ensureSecretsKey() {
  const text = existsSync(devVars) ? readFileSync(devVars, "utf8") : "";
  if (/^EDDY_SECRETS_KEY\s*=/m.test(text)) return;
  appendFileSync(devVars, `${text && !text.endsWith("\n") ? "\n" : ""}EDDY_SECRETS_KEY="${newSecretsKey()}"\n`, { mode: 0o600 });
  console.log(`[eddy] wrote a new key that seals Secrets at rest (EDDY_SECRETS_KEY) to ${devVars}`);
}

// `--https`: the same port over TLS with wrangler's self-signed certificate (made locally, no
// network needed), because kubectl (client-go) sends a bearer token only over https.
const args = process.argv.slice(2).flatMap((a) => (a === "--https" ? ["--local-protocol", "https"] : [a]));
// `--devtools` is ours, not wrangler's: it keeps wrangler's DevTools relay on (see inspectorEnv).
const devtools = args.includes("--devtools");
if (devtools) args.splice(args.indexOf("--devtools"), 1);
const has = (flag) => args.some((a) => a === flag || a.startsWith(`${flag}=`));
const wranglerArgs = ["dev"];
if (!has("--port")) wranglerArgs.push("--port", "8787");
if (!has("--ip")) wranglerArgs.push("--ip", "127.0.0.1");
if (!has("--persist-to")) wranglerArgs.push("--persist-to", join(root, ".wrangler", "state"));
// /__scheduled?cron=... fires the Cron Trigger by hand (locally, /cdn-cgi/handler/scheduled fails
// once [assets] is configured: docs/known-issues.md).
if (!has("--test-scheduled")) wranglerArgs.push("--test-scheduled");
wranglerArgs.push(...destinationPolicyArgs(), ...args);

/**
 * wrangler dev relays the Worker's DevTools protocol through a Worker in its proxy process, which
 * keeps every inspector event of the Worker (several per subrequest) in an array until a DevTools
 * window attaches: under steady load the proxy grows by about 100 MB more in ten minutes, and by
 * hundreds of MB at once when DevTools finally connects (docs/known-issues.md). wrangler 4.86 has
 * no CLI switch for it; it skips the relay only inside a VS Code JavaScript debug terminal,
 * recognised by VSCODE_INSPECTOR_OPTIONS. Miniflare reads that variable only together with a
 * NODE_OPTIONS `--require` bootloader, hence the check. `npm start -- --devtools` keeps the relay.
 */
function inspectorEnv() {
  if (devtools || process.env.VSCODE_INSPECTOR_OPTIONS !== undefined) return {};
  if (/--require/.test(process.env.NODE_OPTIONS ?? "")) {
    console.log("[eddy] NODE_OPTIONS has --require: wrangler's DevTools relay stays on (it keeps inspector events in memory)");
    return {};
  }
  console.log("[eddy] DevTools relay off (wrangler keeps every inspector event in memory otherwise); `npm start -- --devtools` turns it on");
  return { VSCODE_INSPECTOR_OPTIONS: "{}" };
}

/**
 * `EDDY_V8_FLAGS="--trace-gc" npm start`: V8 flags for every workerd of `npm start` (wrangler's
 * proxy and the Worker's), for diagnosis; none by default, as none keeps memory flatter under load
 * (docs/known-issues.md, "Memory grows under steady load"). workerd reads V8 flags only from its
 * config, which Miniflare writes without any, so Miniflare is pointed (MINIFLARE_WORKERD_PATH) at
 * scripts/workerd-v8.sh, which adds them to the config and becomes the real workerd. Not on Windows
 * (the wrapper is a shell script). A flag V8 does not know stops workerd at start.
 */
function v8Env() {
  const flags = process.env.EDDY_V8_FLAGS ?? "";
  const wrapper = join(root, "scripts", "workerd-v8.sh");
  if (!flags.trim() || process.platform === "win32" || process.env.MINIFLARE_WORKERD_PATH === wrapper) return {};
  // The workerd Miniflare would run: its own `workerd` dependency, or MINIFLARE_WORKERD_PATH.
  const fromRoot = createRequire(join(root, "package.json"));
  const fromMiniflare = createRequire(createRequire(fromRoot.resolve("wrangler")).resolve("miniflare"));
  const workerd = process.env.MINIFLARE_WORKERD_PATH || fromMiniflare("workerd").default;
  console.log(`[eddy] V8 flags for workerd: ${flags}`);
  return { MINIFLARE_WORKERD_PATH: wrapper, EDDY_WORKERD: workerd, EDDY_NODE: process.execPath };
}

/**
 * Local subscribers listen on 127.0.0.1, which wrangler.toml's DESTINATION_POLICY (public-only, the
 * safe default for a deployment) refuses: `npm start` allows loopback, unless .dev.vars or a
 * `--var DESTINATION_POLICY:...` says otherwise.
 */
function destinationPolicyArgs() {
  const text = existsSync(devVars) ? readFileSync(devVars, "utf8") : "";
  if (/^DESTINATION_POLICY\s*=/m.test(text) || args.some((a) => a.startsWith("DESTINATION_POLICY:"))) return [];
  return ["--var", "DESTINATION_POLICY:public-and-loopback"];
}

/** The value of a wrangler flag given as `--flag value` or `--flag=value`. */
function flagValue(flag) {
  const at = wranglerArgs.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
  if (at === -1) return undefined;
  return wranglerArgs[at].includes("=") ? wranglerArgs[at].slice(flag.length + 1) : wranglerArgs[at + 1];
}

/**
 * Whether Eddy's port is free. A busy port makes workerd print a fatal stack trace before
 * wrangler's own advice; this says what is wrong first, and stops.
 */
function portFree(port, ip) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", (e) => resolve(e.code !== "EADDRINUSE" && e.code !== "EACCES" ? true : e.code));
    probe.listen(port, ip, () => probe.close(() => resolve(true)));
  });
}

const port = Number(flagValue("--port"));
const ip = flagValue("--ip");
const free = await portFree(port, ip);
if (free !== true) {
  console.error(`[eddy] cannot listen on ${ip}:${port}: ${free === "EACCES" ? "not allowed for this user" : "the port is in use (another npm start, or another program)"}.`);
  console.error(`[eddy] stop what uses it, or start Eddy on another port: npm start -- --port ${port === 8787 ? 8788 : port + 1}`);
  process.exit(1);
}

ensureToken();
ensureSigningKey();
ensureSecretsKey();
const child = spawn(join(root, "node_modules", ".bin", "wrangler"), wranglerArgs, {
  cwd: root,
  stdio: "inherit",
  env: { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", ...process.env, ...inspectorEnv(), ...v8Env() },
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
