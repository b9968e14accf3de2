// Starts Eddy the way a user does (`npm start -- --port N`) and talks to it over HTTP.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createServer } from "node:net";
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";

export const ROOT = resolve(import.meta.dirname, "..", "..");

export interface Platform {
  url: string;
  token: string;
  port: number;
  persistDir: string;
  logs: () => string;
  /** Graceful stop (SIGINT to the whole process group). */
  stop: () => Promise<void>;
  /** `kill -9` of the whole process group: npm, node, wrangler and workerd. */
  kill9: () => Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export function adminToken(): string {
  const text = readFileSync(join(ROOT, ".dev.vars"), "utf8");
  const m = /^ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?\s*$/m.exec(text);
  if (!m) throw new Error(".dev.vars has no ADMIN_TOKEN");
  return m[1]!;
}

/** GET a URL's status; https with the self-signed certificate of `npm start -- --https` accepted. */
function healthy(url: string): Promise<number> {
  return new Promise((res, rej) => {
    const get = url.startsWith("https:") ? httpsGet : httpGet;
    get(url, { rejectUnauthorized: false }, (r) => {
      r.resume();
      res(r.statusCode ?? 0);
    }).on("error", rej);
  });
}

async function waitReady(url: string, proc: ChildProcess, logs: () => string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`npm start exited with ${proc.exitCode}:\n${logs()}`);
    try {
      if ((await healthy(`${url}/healthz`)) === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Eddy did not become ready at ${url} within ${timeoutMs} ms:\n${logs()}`);
}

/**
 * Runs `npm start -- --port <port> --persist-to <dir>` in its own process group and waits for
 * /healthz. Pass the same persistDir to a later call to restart on the same state.
 */
export async function startPlatform(opts: { port?: number; persistDir?: string; extraArgs?: string[] } = {}): Promise<Platform> {
  const port = opts.port ?? (await freePort());
  const persistDir = opts.persistDir ?? mkdtempSync(join(tmpdir(), "eddy-state-"));
  let out = "";
  const proc = spawn("npm", ["start", "--", "--port", String(port), "--persist-to", persistDir, "--log-level", "warn", ...(opts.extraArgs ?? [])], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  proc.stdout!.on("data", (d) => (out = (out + d).slice(-200_000)));
  proc.stderr!.on("data", (d) => (out = (out + d).slice(-200_000)));
  const logs = () => out;
  // `--https` (npm start's flag): the same port over TLS with a self-signed certificate.
  const url = `${opts.extraArgs?.includes("--https") ? "https" : "http"}://127.0.0.1:${port}`;
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const signalGroup = async (sig: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid!, sig);
    } catch {
      return;
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    // workerd children can outlive npm; make sure nothing of the group is left listening.
    try {
      process.kill(-proc.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  };
  try {
    await waitReady(url, proc, logs, 90_000);
  } catch (e) {
    await signalGroup("SIGKILL");
    throw e;
  }
  return {
    url,
    port,
    persistDir,
    token: adminToken(),
    logs,
    stop: () => signalGroup("SIGINT"),
    kill9: () => signalGroup("SIGKILL"),
  };
}
