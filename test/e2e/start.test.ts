// `npm start` as a newcomer meets it: a port already in use is said plainly, before wrangler and
// workerd start (workerd would print a fatal stack trace first).
import { spawn } from "node:child_process";
import { describe, expect, inject, it } from "vitest";
import { ROOT } from "../support/platform.js";

const p = inject("platform");

describe("npm start", () => {
  it("on a port in use: one clear message, exit 1, and nothing from workerd", async () => {
    // The shared platform listens on p.port.
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn("npm", ["start", "--", "--port", String(p.port), "--persist-to", "/nonexistent/eddy-state"], { cwd: ROOT, env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.on("close", (code) => {
        clearTimeout(killer);
        resolve({ code, out });
      });
    });
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain(`[eddy] cannot listen on 127.0.0.1:${p.port}: the port is in use (another npm start, or another program).`);
    expect(r.out).toContain(`npm start -- --port ${p.port + 1}`);
    expect(r.out).not.toMatch(/workerd|fatal|wrangler/i);
  }, 90_000);
});
