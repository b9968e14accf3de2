// The README's walk-through, word for word: every ```sh block between "## Walk-through" and
// "## The console", in order, in one bash, against Eddy started as the README says
// (`npm start -- --https`), so the README cannot drift from what works. Only what must differ on a
// shared test machine is replaced: Eddy's port (8787), the three subscribers' ports (9090-9092),
// and where eddy.kubeconfig is written (not over a developer's own).
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type Platform, ROOT, startPlatform } from "../support/platform.js";

/** The ```sh blocks of the README between two headings. */
export function shellBlocks(markdown: string, from: string, to: string): string[] {
  const start = markdown.indexOf(from);
  const end = markdown.indexOf(to, start);
  if (start === -1 || end === -1) throw new Error(`README has no section from "${from}" to "${to}"`);
  return [...markdown.slice(start, end).matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

const found = spawnSync("kubectl", ["version", "--client"]).status === 0;
let platform: Platform;
let output = "";
let code: number | null = null;
const ports: number[] = [];

/** One event-display block of the output per request: the port it arrived at, and its text. */
function received(port: number): string[] {
  return output.split(/(?=☁️ {2}\[:)/).filter((b) => b.startsWith(`☁️  [:${port}]`));
}

describe.skipIf(!found)("the README walk-through, as written", () => {
  beforeAll(async () => {
    platform = await startPlatform({ extraArgs: ["--https"] });
    for (let i = 0; i < 3; i++) ports.push(await freePort());
    const dir = mkdtempSync(join(tmpdir(), "eddy-readme-"));
    const blocks = shellBlocks(readFileSync(join(ROOT, "README.md"), "utf8"), "## Walk-through", "## The console");
    // The first block is `npm start -- --https`, which the test has done (on its own port).
    expect(blocks[0]!.trim()).toBe("npm start -- --https");
    const script = blocks.slice(1).join("\n")
      .replaceAll("127.0.0.1:8787", `127.0.0.1:${platform.port}`)
      .replaceAll("9090", String(ports[0])).replaceAll("9091", String(ports[1])).replaceAll("9092", String(ports[2]))
      .replaceAll("$PWD/eddy.kubeconfig", join(dir, "eddy.kubeconfig")).replaceAll("> eddy.kubeconfig", `> ${join(dir, "eddy.kubeconfig")}`);
    const env: Record<string, string> = { ...(process.env as Record<string, string>), CI: "true", KUBECACHEDIR: join(dir, "kube-cache") };
    for (const k of ["EDDY", "EDDY_SERVER", "EDDY_TOKEN", "EDDY_NAMESPACE", "KUBECONFIG"]) delete env[k];
    const bash = spawn("bash", ["-c", `set -eo pipefail\n${script}\nsleep 2\nkill %1 %2 %3`], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const log = process.env.README_TEST_LOG;
    bash.stdout.on("data", (d) => ((output += d), log && appendFileSync(log, d)));
    bash.stderr.on("data", (d) => ((output += d), log && appendFileSync(log, d)));
    // "exit", not "close": the subscribers started with & hold the output pipes until they go.
    code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => bash.kill("SIGKILL"), 240_000);
      bash.on("exit", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    // The subscribers (npm and node under it) go with the shell's process group.
    try {
      process.kill(-bash.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }, 400_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("runs every block without an error", () => {
    expect(code, output).toBe(0);
  });

  it("1-3: creates the Broker and the Trigger, and delivers what it accepted, refusing a malformed event", () => {
    expect(output).toMatch(new RegExp(`default\\s+https://127\\.0\\.0\\.1:${platform.port}/brokers/demo/default\\s+\\d+s\\s+True`));
    expect(output).toContain("trigger.eventing.knative.dev/greetings condition met");
    expect(output).toContain("HTTP/1.1 202 Accepted");
    expect(output).toContain("HTTP/1.1 400 Bad Request");
    expect(output).toContain("202 Accepted\n"); // eddy send
    const greetings = received(ports[0]!);
    for (const id of ["hello-1", "hello-2"]) expect(greetings.some((b) => b.includes(`id: ${id}`)), id).toBe(true);
  });

  it("4: retries the failing subscriber, then hands the event to the dead-letter sink with Knative's error extensions", () => {
    expect(received(ports[1]!).filter((b) => b.includes("id: order-1")).length).toBe(3);
    const dead = received(ports[2]!).find((b) => b.includes("id: order-1"));
    expect(dead).toContain("knativeerrorcode: 503");
    expect(dead).toContain(`knativeerrordest: http://127.0.0.1:${ports[1]}/`);
  });

  it("5-6: counts, keeps the dead letter naming its Trigger, and redrives it without the error extensions once the Trigger points at the healthy subscriber", () => {
    expect(output).toMatch(/"accepted":\s*\d+/);
    expect(output).toContain('"trigger":"audit"');
    expect(output).toMatch(/ID\s+EVENT\s+TYPE\s+TRIGGER\s+STATUS/);
    expect(output).toContain("trigger.eventing.knative.dev/audit patched");
    expect(output).toContain("redriven: 1");
    const redriven = received(ports[0]!).filter((b) => b.includes("id: audit-1"));
    expect(redriven.length).toBeGreaterThanOrEqual(1);
    for (const b of redriven) expect(b).not.toContain("knativeerror");
  });

  it("7: archives, replays a window to the greetings Trigger, and eddy replay waits for success", () => {
    expect(output).toContain("replay.eventing.eddy.dev/greetings-again condition met");
    expect(output).toMatch(/greetings-again\s+.*\s1\s/);
    expect(output).toMatch(/replay default-replay-\w+: succeeded; replayed [1-9]/);
    const again = received(ports[0]!).filter((b) => b.includes("id: hello-3"));
    expect(again.some((b) => b.includes("eddyreplay: greetings-again"))).toBe(true);
  });
});
