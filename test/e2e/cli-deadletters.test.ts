// `eddy tail` and `eddy deadletters` against Eddy started with `npm start`, as a user runs them.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders, post } from "../support/emit.js";
import { ROOT } from "../support/platform.js";
import { sinkPool } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const V1 = "eventing.knative.dev/v1";
const sink = sinkPool(afterEach);
const eddy = (...args: string[]) => spawnSync("node", [join(ROOT, "cli", "eddy.mjs"), ...args, "--server", p.url, "--token", p.token], { encoding: "utf8" });
const ev = (id: string, type = "com.example.cli") => ({ ...binaryHeaders({ specversion: "1.0", id, source: "/cli", type }), Authorization: `Bearer ${p.token}` });

describe("eddy deadletters", () => {
  it("lists, shows, redrives and purges what a Broker kept", async () => {
    const ns = uniqueNs("cli");
    const url = (await api.apply(broker(ns, "default"))).status.address.url;
    await api.apply(trigger(ns, "audit", "default", "http://127.0.0.1:9/", { delivery: { retry: 0, timeout: "PT1S" } }));
    await api.waitReady(V1, "Trigger", ns, "audit");
    for (const id of ["c1", "c2"]) expect((await post(url, ev(id), '{"x":1}')).status).toBe(202);
    await expect.poll(() => JSON.parse(eddy("deadletters", "list", "--of", "broker:default", "-n", ns, "-o", "json").stdout || "[]").length, { timeout: 20_000 }).toBe(2);

    const table = eddy("deadletters", "list", "--of", "broker:default", "-n", ns);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+EVENT\s+TYPE\s+TRIGGER\s+STATUS\s+REASON/);
    expect(table.stdout).toContain("retries-exhausted");
    const items = JSON.parse(eddy("deadletters", "list", "--of", "broker:default", "-n", ns, "-o", "json").stdout) as { id: string; eventId: string }[];
    const shown = eddy("deadletters", "show", "--of", "broker:default", "-n", ns, items[0]!.id);
    expect(shown.status).toBe(0);
    expect(JSON.parse(shown.stdout).event.id).toBe(items[0]!.eventId);

    const s = await sink();
    await api.apply(trigger(ns, "audit", "default", s.url, { delivery: { retry: 0 } }));
    const redriven = eddy("deadletters", "redrive", "--of", "broker:default", "-n", ns, items[0]!.id);
    expect(redriven.stdout).toBe("redriven: 1\n");
    const [got] = await s.waitFor(1);
    expect(got!.headers["ce-id"]).toBe(items[0]!.eventId);

    expect(eddy("deadletters", "purge", "--of", "broker:default", "-n", ns, items[1]!.id).stdout).toBe("purged: 1\n");
    await expect.poll(() => eddy("deadletters", "list", "--of", "broker:default", "-n", ns).stdout).toBe("No dead letters.\n");
    const gone = eddy("deadletters", "show", "--of", "broker:default", "-n", ns, items[1]!.id);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain("404");
  });

  it("says what is wrong with a command line, with exit code 2", () => {
    const r = eddy("deadletters", "redrive", "--of", "broker:default");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("redrive what? give IDs, --trigger NAME or --all");
  });
});

describe("eddy tail", () => {
  it("prints accepted events and delivery outcomes as they happen", async () => {
    const ns = uniqueNs("tail");
    const url = (await api.apply(broker(ns, "default"))).status.address.url;
    const s = await sink();
    await api.apply(trigger(ns, "t", "default", s.url));
    await api.waitReady(V1, "Trigger", ns, "t");
    const child = spawn("node", [join(ROOT, "cli", "eddy.mjs"), "tail", "broker:default", "-n", ns, "--count", "2", "-o", "json", "--server", p.url, "--token", p.token]);
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const done = new Promise<number>((r) => child.on("exit", (code) => r(code ?? -1)));
    await expect.poll(() => err, { timeout: 20_000 }).toContain("eddy tail: watching broker:default");
    expect((await post(url, ev("t-1"), "{}")).status).toBe(202);
    expect(await done).toBe(0);
    const lines = out.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.kind)).toEqual(["event", "delivery"]);
    expect(lines[1]).toMatchObject({ outcome: "delivered", route: "t", eventId: lines[0].attrs.id });
  });

  it("refuses a wrong token with exit code 1", () => {
    const r = spawnSync("node", [join(ROOT, "cli", "eddy.mjs"), "tail", "broker:default", "-n", "x", "--server", p.url, "--token", "wrong"], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("401");
  });
});
