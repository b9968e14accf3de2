#!/usr/bin/env node
// `npm run deploy`: from a fresh clone to a working deployment on Cloudflare, safe to run again.
// Builds the console, creates the queues and the R2 bucket that are missing, sets ADMIN_TOKEN and
// EDDY_SIGNING_KEY (and EDDY_SECRETS_KEY) when they are not set, deploys, and prints the URL and the next step; all through
// wrangler's own CLI. `--env NAME` deploys a separate environment (its own Worker, queues and
// bucket: [env.NAME] in wrangler.toml, written from the top level when missing). `--dry-run` prints
// every step and runs `wrangler deploy --dry-run`, and nothing else leaves this machine.
// EDDY_WRANGLER names another wrangler executable (tests use a fake that answers as wrangler does).
import { spawn } from "node:child_process";
import { appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { checkEnvName, deploymentOf, envBlock, readConfig } from "./deploy/config.mjs";
import { deploy, DeployError, localCopyPath } from "./deploy/steps.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const USAGE = `Usage: npm run deploy [-- --env NAME] [-- --dry-run]

  --env NAME      deploy environment NAME: Worker "eddy-NAME" with its own queues and R2 bucket
                  ([env.NAME] in wrangler.toml, added from the top level when missing)
  --dry-run       print every step and run \`wrangler deploy --dry-run\`; nothing is created
  --config PATH   another wrangler.toml (default: the one beside package.json)

Needs a Cloudflare account on the Workers Paid plan (see README, "Deploy to Cloudflare"), logged in
with \`npx wrangler login\` or CLOUDFLARE_API_TOKEN.
`;

/** Runs wrangler with its output captured (and its banner, update check and metrics off). */
function wranglerRunner(cwd, configArgs) {
  const bin = process.env.EDDY_WRANGLER || join(root, "node_modules", ".bin", "wrangler");
  const [cmd, pre] = /\.(mjs|js)$/.test(bin) ? [process.execPath, [bin]] : [bin, []];
  return (args, { input } = {}) => new Promise((done) => {
    const p = spawn(cmd, [...pre, ...args, ...configArgs], {
      cwd, stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", FORCE_COLOR: "0" },
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", (e) => done({ code: 127, stdout, stderr: `${stderr}${e.message}` }));
    p.on("close", (code) => done({ code: code ?? 1, stdout, stderr }));
    p.stdin.on("error", () => {});
    p.stdin.end(input ?? "");
  });
}

/** Runs a command with its output shown as it comes; resolves with the exit code. */
function shown(cmd, args, opts) {
  return new Promise((done) => {
    const p = spawn(cmd, args, { stdio: "inherit", ...opts });
    p.on("error", () => done(127));
    p.on("close", (code) => done(code ?? 1));
  });
}

async function buildConsole(say) {
  say("==> Console: npm run build:console (into dist/console, served as the Worker's assets)");
  if ((await shown(process.execPath, [join(root, "scripts", "build-console.mjs")], { cwd: root })) !== 0) throw new DeployError("the console did not build: see the message above");
}

async function dryRun(say, config, raw, d) {
  const envArgs = d.env ? ["--env", d.env] : [];
  say(`npm run deploy --dry-run: the steps a deployment of the Worker "${d.worker}" takes. Nothing is created or`);
  say("changed; only `wrangler deploy --dry-run` runs, which bundles the Worker here and checks its configuration.");
  say("");
  await buildConsole(say);
  if (!d.defined) say(`==> would add [env.${d.env}] to ${config} (wrangler does not inherit queues, buckets, bindings or vars):${envBlock(raw, d.env).replace(/\n/g, "\n    ")}`);
  say("==> would check the Cloudflare login: npx wrangler whoami --json (else: run `npx wrangler login`, or set CLOUDFLARE_API_TOKEN)");
  for (const q of d.queues) say(`==> would create the queue ${q} unless it exists: npx wrangler queues create ${q}`);
  if (d.bucket) say(`==> would create the R2 bucket ${d.bucket.name} unless it exists: npx wrangler r2 bucket create ${d.bucket.name}${d.bucket.jurisdiction ? ` --jurisdiction ${d.bucket.jurisdiction}` : ""} (if R2 is off for the account, it says how to turn it on)`);
  say(`==> would list the Worker's secrets: npx wrangler secret list${envArgs.length ? ` ${envArgs.join(" ")}` : ""}`);
  say(`==> would set ADMIN_TOKEN unless set: generated (or $ADMIN_TOKEN), kept in ${localCopyPath(dirname(config), d.worker)} (mode 600, never printed): npx wrangler secret put ADMIN_TOKEN${envArgs.length ? ` ${envArgs.join(" ")}` : ""}`);
  say(`==> would set EDDY_SIGNING_KEY unless set: a new ES256 key: npx wrangler secret put EDDY_SIGNING_KEY${envArgs.length ? ` ${envArgs.join(" ")}` : ""}`);
  say(`==> would set EDDY_SECRETS_KEY unless set: 32 random bytes that seal Secrets at rest: npx wrangler secret put EDDY_SECRETS_KEY${envArgs.length ? ` ${envArgs.join(" ")}` : ""}`);
  say(`==> would deploy, and print the URL and the next step: npx wrangler deploy${envArgs.length ? ` ${envArgs.join(" ")}` : ""}`);
  say(`==> now: npx wrangler deploy --dry-run${envArgs.length ? ` ${envArgs.join(" ")}` : ""}`);
  // An environment not in wrangler.toml yet is checked from a copy with its block added, beside it.
  const temp = d.defined ? undefined : join(dirname(config), `.wrangler-deploy-${d.env}.toml`);
  if (temp) writeFileSync(temp, readFileSync(config, "utf8") + envBlock(raw, d.env));
  try {
    const bin = process.env.EDDY_WRANGLER || join(root, "node_modules", ".bin", "wrangler");
    const [cmd, pre] = /\.(mjs|js)$/.test(bin) ? [process.execPath, [bin]] : [bin, []];
    const code = await shown(cmd, [...pre, "deploy", "--dry-run", ...envArgs, "--config", temp ?? config], {
      cwd: dirname(config), env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" },
    });
    if (code !== 0) throw new DeployError(`wrangler deploy --dry-run failed (exit ${code}): see its message above`);
  } finally {
    if (temp) rmSync(temp, { force: true });
  }
  say("");
  say("Dry run done: `npm run deploy` without --dry-run takes these steps (see README, \"Deploy to Cloudflare\").");
}

async function main(argv) {
  const say = (line) => process.stdout.write(`${line}\n`);
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { env: { type: "string", short: "e" }, "dry-run": { type: "boolean" }, config: { type: "string", short: "c" }, help: { type: "boolean", short: "h" } }, strict: true }));
    if (values.env !== undefined) checkEnvName(values.env);
  } catch (e) {
    process.stderr.write(`npm run deploy: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = resolve(values.config ?? join(root, "wrangler.toml"));
  const raw = readConfig(config);
  const d = deploymentOf(raw, values.env);
  try {
    if (values["dry-run"]) {
      await dryRun(say, config, raw, d);
      return 0;
    }
    if (!d.defined) {
      appendFileSync(config, envBlock(raw, d.env));
      say(`==> added [env.${d.env}] to ${config}: queues ${d.queues.join(", ")}, bucket ${d.bucket?.name}`);
    }
    await buildConsole(say);
    const envArgs = d.env ? ["--env", d.env] : [];
    await deploy({ wrangler: wranglerRunner(dirname(config), ["--config", config]), say, envArgs, dir: dirname(config) }, d);
    return 0;
  } catch (e) {
    if (!(e instanceof DeployError)) throw e;
    process.stderr.write(`npm run deploy: ${e.message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
