// The steps of `npm run deploy`, each through wrangler's own CLI. `wrangler(args, { input })` runs
// wrangler and resolves with { code, stdout, stderr }: the real one, or in tests a fake that answers
// as wrangler does; `say` prints one line. Every step is safe to run again.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { newSigningKey } from "../signing-key.mjs";
import { newSecretsKey } from "../secrets-key.mjs";

/** A step failed: the message says why and what to do; exit code 1. */
export class DeployError extends Error {}

// How wrangler (4.x) and the Cloudflare API say it, as printed by `wrangler ...` on failure.
const EXISTS = /already exists|already taken|\[code: (11009|10004|10021)\]/i;
const R2_OFF = /enable R2|\[code: 10042\]/i;
const QUEUES_OFF = /do not have Queues enabled|\[code: 10013\]/i;
const WORKER_MISSING = /Worker ".*" (\(env: .*\) )?not found|\[code: 10007\]/i;

const text = (r) => `${r.stdout}\n${r.stderr}`.trim();
/** wrangler's own words, indented under the step, for what it printed. */
const quote = (say, r) => text(r).split("\n").filter((l) => l.trim()).forEach((l) => say(`    ${l}`));

/** Where the admin token of a deployment is kept: `.deploy/<worker>.env`, beside wrangler.toml. */
export function localCopyPath(dir, worker) {
  return join(dir, ".deploy", `${worker}.env`);
}

function readLocalCopy(path) {
  if (!existsSync(path)) return {};
  return Object.fromEntries([...readFileSync(path, "utf8").matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
}

function writeLocalCopy(path, worker, values) {
  mkdirSync(join(path, ".."), { recursive: true });
  const lines = Object.entries(values).filter(([, v]) => v).map(([k, v]) => `${k}=${v}`);
  writeFileSync(path, `# Eddy deployment "${worker}", written by npm run deploy. Private: it holds the admin token.\n# Use it with: set -a; . ${relative(process.cwd(), path) || path}; set +a\n${lines.join("\n")}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Logged in to Cloudflare (an OAuth login or CLOUDFLARE_API_TOKEN)? */
export async function checkLogin({ wrangler, say }) {
  say("==> Cloudflare account: npx wrangler whoami");
  const r = await wrangler(["whoami", "--json"]);
  let who;
  try {
    who = JSON.parse(r.stdout);
  } catch {
    who = undefined;
  }
  if (r.code !== 0 || who?.loggedIn === false) {
    quote(say, r);
    throw new DeployError("not logged in to Cloudflare: run `npx wrangler login` (it opens a browser), or set CLOUDFLARE_API_TOKEN (and CLOUDFLARE_ACCOUNT_ID when the token reaches several accounts) where there is no browser, as in CI; then run `npm run deploy` again");
  }
  say(`    logged in${who?.email ? ` as ${who.email}` : ""}`);
}

/** Creates each queue that does not exist yet. */
export async function ensureQueues({ wrangler, say }, queues) {
  for (const q of queues) {
    say(`==> Queue ${q}: npx wrangler queues create ${q}`);
    const r = await wrangler(["queues", "create", q]);
    if (r.code === 0) say("    created");
    else if (EXISTS.test(text(r))) say("    exists already");
    else {
      quote(say, r);
      const hint = QUEUES_OFF.test(text(r)) ? "Queues are not enabled on this account: turn them on in the Cloudflare dashboard (Storage & Databases → Queues), then" : "see wrangler's message above, then";
      throw new DeployError(`could not create the queue ${q}: ${hint} run \`npm run deploy\` again`);
    }
  }
}

/** Creates the R2 bucket unless it exists; says how to turn R2 on when that is what fails. */
export async function ensureBucket({ wrangler, say }, bucket) {
  if (!bucket) return;
  const juris = bucket.jurisdiction ? ["--jurisdiction", bucket.jurisdiction] : [];
  say(`==> R2 bucket ${bucket.name}: npx wrangler r2 bucket create ${bucket.name}${juris.length ? ` ${juris.join(" ")}` : ""}`);
  const r = await wrangler(["r2", "bucket", "create", bucket.name, ...juris]);
  if (r.code === 0) return say("    created");
  if (EXISTS.test(text(r))) return say("    exists already");
  quote(say, r);
  if (R2_OFF.test(text(r))) {
    throw new DeployError("R2 is not turned on for this account: in the Cloudflare dashboard open R2 Object Storage and enable it (a new account confirms the R2 plan once; the free allowance covers what Eddy keeps for a small deployment), then run `npm run deploy` again. The queues created so far are kept");
  }
  throw new DeployError(`could not create the R2 bucket ${bucket.name}: see wrangler's message above, then run \`npm run deploy\` again`);
}

/** Names of the Worker's secrets; none when the Worker does not exist yet. */
async function secretNames({ wrangler, say, envArgs }) {
  const r = await wrangler(["secret", "list", ...envArgs]);
  if (r.code !== 0) {
    if (WORKER_MISSING.test(text(r))) return [];
    quote(say, r);
    throw new DeployError("could not list the Worker's secrets: see wrangler's message above, then run `npm run deploy` again");
  }
  try {
    return JSON.parse(r.stdout).map((s) => s.name);
  } catch {
    throw new DeployError(`could not read \`wrangler secret list\`: ${r.stdout.slice(0, 200)}`);
  }
}

async function putSecret({ wrangler, say, envArgs }, name, value) {
  const r = await wrangler(["secret", "put", name, ...envArgs], { input: value });
  if (r.code !== 0) {
    quote(say, r);
    throw new DeployError(`could not set the secret ${name}: see wrangler's message above, then run \`npm run deploy\` again`);
  }
}

/**
 * ADMIN_TOKEN, EDDY_SIGNING_KEY and EDDY_SECRETS_KEY, each generated and set when the Worker lacks it (a set secret
 * is never read back nor replaced). The admin token is kept in `.deploy/<worker>.env` (mode 600)
 * and never printed: `ADMIN_TOKEN` in the environment gives one instead of a generated one.
 */
export async function ensureSecrets(ctx, worker) {
  const { say, dir } = ctx;
  say(`==> Secrets of ${worker}: npx wrangler secret list`);
  const names = await secretNames(ctx);
  const copy = localCopyPath(dir, worker);
  const kept = readLocalCopy(copy);
  if (names.includes("ADMIN_TOKEN")) {
    say(kept.EDDY_TOKEN ? `    ADMIN_TOKEN is set; your copy is in ${copy}` : `    ADMIN_TOKEN is set, with no copy in ${copy} (secrets cannot be read back): use the token you kept, or set a new one with \`npx wrangler secret put ADMIN_TOKEN\``);
  } else {
    const token = process.env.ADMIN_TOKEN || kept.EDDY_TOKEN || randomBytes(32).toString("hex");
    writeLocalCopy(copy, worker, { ...kept, EDDY_TOKEN: token });
    say(`    ADMIN_TOKEN: ${process.env.ADMIN_TOKEN ? "from $ADMIN_TOKEN" : "generated (256 bits)"}, kept in ${copy} (mode 600, never printed): npx wrangler secret put ADMIN_TOKEN`);
    await putSecret(ctx, "ADMIN_TOKEN", token);
  }
  if (names.includes("EDDY_SIGNING_KEY")) say("    EDDY_SIGNING_KEY is set");
  else {
    say("    EDDY_SIGNING_KEY: a new ES256 key Eddy signs sender tokens with: npx wrangler secret put EDDY_SIGNING_KEY");
    await putSecret(ctx, "EDDY_SIGNING_KEY", JSON.stringify(newSigningKey("ES256")));
  }
  if (names.includes("EDDY_SECRETS_KEY")) say("    EDDY_SECRETS_KEY is set");
  else {
    say("    EDDY_SECRETS_KEY: a new key that seals Secrets at rest (docs/security.md): npx wrangler secret put EDDY_SECRETS_KEY");
    await putSecret(ctx, "EDDY_SECRETS_KEY", newSecretsKey());
  }
  return copy;
}

/** `wrangler deploy`; resolves with the Worker's URL (its workers.dev address when it has one). */
export async function deployWorker({ wrangler, say, envArgs }) {
  say(`==> Deploy: npx wrangler deploy${envArgs.length ? ` ${envArgs.join(" ")}` : ""}`);
  const r = await wrangler(["deploy", ...envArgs]);
  quote(say, r);
  if (r.code !== 0) throw new DeployError("wrangler deploy failed: see its message above; fix that and run `npm run deploy` again (what was created is kept)");
  const urls = [...text(r).matchAll(/https:\/\/[^\s"'<>]+/g)].map((m) => m[0].replace(/[.,)]+$/, ""));
  return urls.find((u) => u.endsWith(".workers.dev")) ?? urls[0];
}

/** The whole real path, in order; returns the URL. */
export async function deploy(ctx, d) {
  await checkLogin(ctx);
  await ensureQueues(ctx, d.queues);
  await ensureBucket(ctx, d.bucket);
  const copy = await ensureSecrets(ctx, d.worker);
  const url = await deployWorker(ctx);
  if (url && existsSync(copy)) writeLocalCopy(copy, d.worker, { ...readLocalCopy(copy), EDDY_SERVER: url });
  ctx.say("");
  ctx.say(url ? `Eddy is deployed: ${url}` : "Eddy is deployed (wrangler printed no URL: see the Worker's routes in the Cloudflare dashboard).");
  ctx.say(`Next: point the eddy command and kubectl at it (the admin token is in ${copy}):`);
  ctx.say(`  set -a; . ${relative(process.cwd(), copy) || copy}; set +a`);
  ctx.say("  npx eddy kubeconfig --namespace demo > eddy.kubeconfig && export KUBECONFIG=$PWD/eddy.kubeconfig");
  ctx.say("  kubectl get brokers");
  return url;
}
