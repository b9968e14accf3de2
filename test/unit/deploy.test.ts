// `npm run deploy`: the dry run from the repository, as a user runs it (no Cloudflare account here),
// and the real path driven against a fake wrangler (test/fixtures/fake-wrangler.mjs) that answers
// as wrangler does: a fresh account, a second run, R2 not turned on, not logged in.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { envSettings } from "../../scripts/deploy/config.mjs";

const ROOT = resolve(import.meta.dirname, "..", "..");
const FAKE = join(ROOT, "test", "fixtures", "fake-wrangler.mjs");

interface Run { code: number | null; out: string; err: string }

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    const p = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, CI: "true", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("close", (code) => done({ code, out, err }));
  });
}

interface Account { loggedIn: boolean; r2: boolean; queues: string[]; buckets: string[]; workers: Record<string, string[]>; calls: { args: string[]; input: string }[]; deployed?: number }

/** A fresh account for the fake wrangler, and a copy of wrangler.toml in a folder of its own. */
function account(over: Partial<Account> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "eddy-deploy-"));
  const config = join(dir, "wrangler.toml");
  copyFileSync(join(ROOT, "wrangler.toml"), config);
  const state = join(dir, "account.json");
  writeFileSync(state, JSON.stringify({ loggedIn: true, r2: true, queues: [], buckets: [], workers: {}, calls: [], ...over }));
  const deploy = (...args: string[]) => run(process.execPath, [join(ROOT, "scripts", "deploy.mjs"), "--config", config, ...args], { EDDY_WRANGLER: FAKE, FAKE_WRANGLER_STATE: state, ADMIN_TOKEN: "" });
  const read = (): Account => JSON.parse(readFileSync(state, "utf8"));
  return { dir, config, deploy, read };
}

const commands = (a: Account) => a.calls.map((c) => c.args.filter((x) => !x.startsWith("/") && x !== "--config").join(" "));

describe("npm run deploy --dry-run", () => {
  it("prints every step and runs wrangler deploy --dry-run, from the repository", async () => {
    const r = await run("npm", ["run", "deploy", "--", "--dry-run"]);
    expect(r.code, r.err).toBe(0);
    for (const step of ["npx wrangler whoami", "npx wrangler queues create eddy-delivery", "npx wrangler queues create eddy-dead-letter", "npx wrangler r2 bucket create eddy-archive", "npx wrangler secret put ADMIN_TOKEN", "npx wrangler secret put EDDY_SIGNING_KEY", "npx wrangler secret put EDDY_SECRETS_KEY", "npx wrangler deploy --dry-run"]) {
      expect(r.out).toContain(step);
    }
    expect(r.out).toContain("console built into");
    // wrangler's own dry run: the bindings it would deploy, and its exit.
    expect(r.out).toMatch(/env\.DELIVERY_QUEUE \(eddy-delivery\)\s+Queue/);
    expect(r.out).toMatch(/env\.ARCHIVE \(eddy-archive\)\s+R2 Bucket/);
    expect(r.out).toContain("--dry-run: exiting now.");
  }, 120_000);

  it("with --env staging, names the environment's own Worker, queues and bucket", async () => {
    const r = await run("npm", ["run", "deploy", "--", "--dry-run", "--env", "staging"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('the Worker "eddy-staging"');
    expect(r.out).toContain("npx wrangler secret put ADMIN_TOKEN --env staging");
    expect(r.out).toMatch(/env\.DELIVERY_QUEUE \(eddy-delivery-staging\)\s+Queue/);
    expect(r.out).toMatch(/env\.DEAD_LETTER_QUEUE \(eddy-dead-letter-staging\)\s+Queue/);
    expect(r.out).toMatch(/env\.ARCHIVE \(eddy-archive-staging\)\s+R2 Bucket/);
  }, 120_000);

  it("refuses a wrong command line with exit code 2", async () => {
    const r = await run(process.execPath, [join(ROOT, "scripts", "deploy.mjs"), "--env", "Not_A_Name"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--env "Not_A_Name" is not an environment name');
  });
});

describe("wrangler.toml's staging environment", () => {
  it("repeats the top level's vars, bindings, queue and bucket settings, with its own names", () => {
    const raw = parse(readFileSync(join(ROOT, "wrangler.toml"), "utf8")) as any;
    expect(raw.env.staging).toEqual(envSettings(raw, "staging"));
  });
});

describe("npm run deploy against a fake wrangler", () => {
  it("on a fresh account: creates queues and bucket, sets both secrets, deploys, keeps the token private", async () => {
    const a = account();
    const r = await a.deploy();
    expect(r.code, r.out + r.err).toBe(0);
    const acct = a.read();
    expect(commands(acct)).toEqual([
      "whoami --json", "queues create eddy-delivery", "queues create eddy-dead-letter", "r2 bucket create eddy-archive",
      "secret list", "secret put ADMIN_TOKEN", "secret put EDDY_SIGNING_KEY", "secret put EDDY_SECRETS_KEY", "deploy",
    ]);
    const token = acct.calls.find((c) => c.args[1] === "put" && c.args[2] === "ADMIN_TOKEN")!.input;
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(acct.calls.find((c) => c.args[2] === "EDDY_SIGNING_KEY")!.input)).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256" });
    const copy = join(a.dir, ".deploy", "eddy.env");
    expect(statSync(copy).mode & 0o777).toBe(0o600);
    expect(readFileSync(copy, "utf8")).toContain(`EDDY_TOKEN=${token}`);
    expect(readFileSync(copy, "utf8")).toContain("EDDY_SERVER=https://eddy.dev-account.workers.dev");
    expect(r.out + r.err).not.toContain(token);
    expect(r.out).toContain("Eddy is deployed: https://eddy.dev-account.workers.dev");
    expect(r.out).toContain("npx eddy kubeconfig");
  }, 60_000);

  it("run again: what exists is kept, secrets are not replaced, and it deploys again", async () => {
    const a = account();
    expect((await a.deploy()).code).toBe(0);
    const first = readFileSync(join(a.dir, ".deploy", "eddy.env"), "utf8");
    const r = await a.deploy();
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out.match(/exists already/g)).toHaveLength(3);
    expect(r.out).toContain("ADMIN_TOKEN is set; your copy is in");
    const again = commands(a.read()).slice(9);
    expect(again).toEqual(["whoami --json", "queues create eddy-delivery", "queues create eddy-dead-letter", "r2 bucket create eddy-archive", "secret list", "deploy"]);
    expect(a.read().deployed).toBe(2);
    expect(readFileSync(join(a.dir, ".deploy", "eddy.env"), "utf8")).toBe(first);
  }, 60_000);

  it("says how to turn R2 on when that is what fails, and deploys nothing", async () => {
    const a = account({ r2: false });
    const r = await a.deploy();
    expect(r.code).toBe(1);
    expect(r.out).toContain("Please enable R2 through the Cloudflare Dashboard. [code: 10042]");
    expect(r.err).toMatch(/R2 is not turned on for this account: in the Cloudflare dashboard open R2 Object Storage and enable it.*run `npm run deploy` again/);
    expect(commands(a.read())).toEqual(["whoami --json", "queues create eddy-delivery", "queues create eddy-dead-letter", "r2 bucket create eddy-archive"]);
    // Turned on, the same command finishes the job.
    writeFileSync(join(a.dir, "account.json"), JSON.stringify({ ...a.read(), r2: true }));
    expect((await a.deploy()).code).toBe(0);
    expect(a.read().deployed).toBe(1);
  }, 60_000);

  it("not logged in: says how to log in, and calls nothing else", async () => {
    const a = account({ loggedIn: false });
    const r = await a.deploy();
    expect(r.code).toBe(1);
    expect(r.err).toContain("not logged in to Cloudflare: run `npx wrangler login`");
    expect(r.err).toContain("CLOUDFLARE_API_TOKEN");
    expect(commands(a.read())).toEqual(["whoami --json"]);
  }, 60_000);

  it("--env NAME not in wrangler.toml: adds it from the top level, with its own names", async () => {
    const a = account();
    const r = await a.deploy("--env", "eu");
    expect(r.code, r.out + r.err).toBe(0);
    const env = (parse(readFileSync(a.config, "utf8")) as any).env.eu;
    expect(env.queues.producers.map((p: any) => p.queue)).toEqual(["eddy-delivery-eu", "eddy-dead-letter-eu"]);
    expect(env.r2_buckets[0].bucket_name).toBe("eddy-archive-eu");
    expect(commands(a.read())).toEqual([
      "whoami --json", "queues create eddy-delivery-eu", "queues create eddy-dead-letter-eu", "r2 bucket create eddy-archive-eu",
      "secret list --env eu", "secret put ADMIN_TOKEN --env eu", "secret put EDDY_SIGNING_KEY --env eu", "secret put EDDY_SECRETS_KEY --env eu", "deploy --env eu",
    ]);
    expect(existsSync(join(a.dir, ".deploy", "eddy-eu.env"))).toBe(true);
    expect(r.out).toContain("Eddy is deployed: https://eddy-eu.dev-account.workers.dev");
  }, 60_000);
});
