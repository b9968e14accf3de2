// The real kubectl against a platform: a private kubeconfig (written by `eddy kubeconfig`) and
// discovery cache per user, so tests can act as the admin and as ServiceAccounts side by side.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./platform.js";

const found = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
/** Why kubectl tests cannot run here, or undefined when kubectl is on PATH. */
export const kubectlMissing = found.error || found.status !== 0 ? `kubectl is not on PATH (${found.error?.message ?? found.stderr}); install kubectl 1.32 to run these tests` : undefined;

export interface Run { code: number | null; stdout: string; stderr: string }

export type Kubectl = ((args: string[], opts?: { stdin?: string; timeoutMs?: number }) => Promise<Run>) & {
  /** kubectl's arguments and environment, for a long-running kubectl (`get -w`) a test spawns itself. */
  argv: string[];
  env: NodeJS.ProcessEnv;
};

/** kubectl configured for `server` with `token` (the admin token when undefined: `eddy kubeconfig` reads .dev.vars). */
export function kubectlFor(server: string, namespace: string, token?: string): Kubectl {
  const dir = mkdtempSync(join(tmpdir(), "eddy-kubectl-"));
  const kc = spawnSync("node", [join(ROOT, "cli", "eddy.mjs"), "kubeconfig", "--server", server, "--namespace", namespace, ...(token ? ["--token", token] : [])], { encoding: "utf8" });
  if (kc.status !== 0) throw new Error(`eddy kubeconfig failed: ${kc.stderr}`);
  writeFileSync(join(dir, "kubeconfig"), kc.stdout);
  const argv = ["--cache-dir", join(dir, "cache")];
  const env = { ...process.env, KUBECONFIG: join(dir, "kubeconfig") };
  const run = (args: string[], opts: { stdin?: string; timeoutMs?: number } = {}) => new Promise<Run>((resolve) => {
    const proc = spawn("kubectl", [...argv, ...args], { env });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    proc.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    proc.stdin.end(opts.stdin ?? "");
  });
  return Object.assign(run, { argv, env });
}
