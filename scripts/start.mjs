#!/usr/bin/env node
// `npm start`: runs Eddy locally under `wrangler dev` with persistent local state.
// Makes sure .dev.vars holds an ADMIN_TOKEN and an EDDY_SIGNING_KEY (writing new ones if not, and
// changing no entry that is there), then starts wrangler on
// 127.0.0.1:8787. Extra arguments go to wrangler: `npm start -- --port 9000`.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, appendFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { newSigningKey } from "./signing-key.mjs";

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

// `--https`: the same port over TLS with wrangler's self-signed certificate (made locally, no
// network needed), because kubectl (client-go) sends a bearer token only over https.
const args = process.argv.slice(2).flatMap((a) => (a === "--https" ? ["--local-protocol", "https"] : [a]));
const has = (flag) => args.some((a) => a === flag || a.startsWith(`${flag}=`));
const wranglerArgs = ["dev"];
if (!has("--port")) wranglerArgs.push("--port", "8787");
if (!has("--ip")) wranglerArgs.push("--ip", "127.0.0.1");
if (!has("--persist-to")) wranglerArgs.push("--persist-to", join(root, ".wrangler", "state"));
// /__scheduled?cron=... fires the Cron Trigger by hand (locally, /cdn-cgi/handler/scheduled fails
// once [assets] is configured: docs/known-issues.md).
if (!has("--test-scheduled")) wranglerArgs.push("--test-scheduled");
wranglerArgs.push(...args);

ensureToken();
ensureSigningKey();
const child = spawn(join(root, "node_modules", ".bin", "wrangler"), wranglerArgs, {
  cwd: root,
  stdio: "inherit",
  env: { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", ...process.env },
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
