// The `eddy` command as a script would run it: output, standard error and exit codes.
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { WebSocketServer } from "ws";
import { speaksTls } from "../../cli/lib.mjs";

const EDDY = join(import.meta.dirname, "..", "..", "cli", "eddy.mjs");

function eddy(args: string[], stdin = "", env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [EDDY, ...args], { env: { ...process.env, EDDY_TOKEN: "", EDDY_SERVER: "", EDDY: "", ...env } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(stdin);
  });
}

interface Seen { method: string; url: string; headers: IncomingMessage["headers"]; body: string }
let server: Server;
let base: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (req.url!.includes("/missing")) {
        res.writeHead(404, { "Content-Type": "text/plain" }).end('broker "missing" in namespace "demo" does not exist; create it through the API first\n');
      } else res.writeHead(202).end();
    });
  });
  // Keep-alive connections stay open until the client closes them: a client that forgets to close
  // its own waits for ever, which a test sees.
  server.keepAliveTimeout = 0;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("eddy", () => {
  it("lists its commands and has --help on each, exit 0; unknown commands exit 2", async () => {
    const top = await eddy(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/kubeconfig\s+print a kubeconfig/);
    expect(top.stdout).toMatch(/send\s+send a CloudEvent/);
    for (const c of ["kubeconfig", "send"]) {
      const h = await eddy([c, "--help"]);
      expect(h.code, c).toBe(0);
      expect(h.stdout, c).toMatch(new RegExp(`^Usage: eddy ${c}`));
    }
    const bad = await eddy(["nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown command "nope"/);
    const flag = await eddy(["send", "--bogus"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/Unknown option '--bogus'/);
  });

  it("writes a kubeconfig that skips TLS verification only for loopback servers", async () => {
    const local = await eddy(["kubeconfig", "--server", "https://127.0.0.1:9443", "--namespace", "demo", "--token", "t0k"]);
    expect(local.code).toBe(0);
    const cfg = parse(local.stdout);
    expect(cfg.clusters[0].cluster).toEqual({ server: "https://127.0.0.1:9443", "insecure-skip-tls-verify": true });
    expect(cfg.users[0].user.token).toBe("t0k");
    expect(cfg.contexts[0].context).toEqual({ cluster: "eddy", user: "eddy", namespace: "demo" });
    expect(cfg["current-context"]).toBe("eddy");
    const remote = parse((await eddy(["kubeconfig", "--server", "https://eddy.example.workers.dev", "--token", "t"])).stdout);
    expect(remote.clusters[0].cluster).toEqual({ server: "https://eddy.example.workers.dev" });
    const http = await eddy(["kubeconfig", "--server", "http://127.0.0.1:8787", "--token", "t"]);
    expect(http.stderr).toMatch(/never sends a token over plain http/);
    expect((await eddy(["kubeconfig", "--server", "ftp://x", "--token", "t"])).code).toBe(2);
  });

  it("sends a binary-mode CloudEvent with the token, attributes and data from standard input", async () => {
    const r = await eddy(["send", "--server", base, "--to", "broker:default", "-n", "demo", "--type", "com.example.t", "--source", "/s", "--id", "e-1", "--ext", "traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "--ext", "team=a", "--token", "tok", "--data-file", "-"], '{"hello":"world"}');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("202 Accepted\n");
    const req = seen[seen.length - 1]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/brokers/demo/default");
    expect(req.headers).toMatchObject({ "ce-specversion": "1.0", "ce-id": "e-1", "ce-type": "com.example.t", "ce-source": "/s", "ce-team": "a", "content-type": "application/json", authorization: "Bearer tok" });
    expect(req.body).toBe('{"hello":"world"}');
    const kn = await eddy(["send", "--server", base, "--to", "InMemoryChannel:messaging.knative.dev/v1:orders", "--data", "plain", "--token", "t"]);
    expect(kn.code).toBe(0);
    expect(seen[seen.length - 1]).toMatchObject({ url: "/inmemorychannels/default/orders", headers: { "content-type": "text/plain" } });
    const url = await eddy(["send", "--to", `${base}/channels/x/y`, "--token", "t"]);
    expect(url.code).toBe(0);
    expect(seen[seen.length - 1]!.url).toBe("/channels/x/y");
  });

  it("explains a refusal on standard error with exit 1, an unreachable Eddy with exit 3, bad input with 2", async () => {
    const refused = await eddy(["send", "--server", base, "--to", "broker:missing", "-n", "demo", "--token", "t"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Broker "missing" in namespace "demo" refused the event: 404 Not Found: broker "missing" in namespace "demo" does not exist/);
    const down = await eddy(["send", "--server", "http://127.0.0.1:1", "--to", "broker:b", "--token", "t"]);
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach Eddy at http:\/\/127.0.0.1:1/);
    expect((await eddy(["send", "--to", "queue:x"])).code).toBe(2);
    expect((await eddy(["send", "--to", "broker:b", "--ext", "Bad=1"])).stderr).toMatch(/--ext "Bad=1"/);
    expect((await eddy(["send", "--type", "x"])).stderr).toMatch(/say where the event goes: eddy send broker:NAME/);
  });

  it("names a target the same way in every command, positional or with the old flags, and the server by $EDDY_SERVER or $EDDY", async () => {
    seen.length = 0;
    for (const args of [["broker:default"], ["broker/default"], ["--to", "broker:default"]]) {
      const r = await eddy(["send", ...args, "-n", "demo", "--id", "same", "--token", "t"], "", { EDDY_SERVER: base });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
    }
    const viaAlias = await eddy(["send", "broker:default", "-n", "demo", "--token", "t"], "", { EDDY: base });
    expect(viaAlias.code, viaAlias.stderr).toBe(0);
    expect(seen.map((r) => r.url)).toEqual(Array(4).fill("/brokers/demo/default"));
    expect((await eddy(["send", "broker:default", "channel:x", "--token", "t"], "", { EDDY_SERVER: base })).stderr).toMatch(/send takes one TARGET/);
    expect((await eddy(["send", "broker:default", "--token", "t"], "", { EDDY_SERVER: "ftp://x" })).stderr).toMatch(/\$EDDY_SERVER must be an http or https URL/);
    // The same target spellings and their refusals in tail, deadletters and replay.
    for (const c of [["tail", "queue:x"], ["deadletters", "list", "queue:x"], ["replay", "queue:x", "--from", "-1h"]]) {
      const r = await eddy([...c, "--token", "t"], "", { EDDY_SERVER: base });
      expect(r.code, c.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/"queue:x" is not a target: use broker:NAME/);
    }
  });

  it("eddy tail: exits 1 at once on a 404 (the server keeps the connection open), and 3 with a message when the server goes away", async () => {
    const missing = await eddy(["tail", "broker:missing", "-n", "demo", "--token", "t"], "", { EDDY_SERVER: base });
    expect(missing.code, missing.stderr).toBe(1);
    expect(missing.stderr).toMatch(/eddy tail: 404 Not Found: broker "missing" in namespace "demo" does not exist/);
    // A tail server that sends one message and then goes away, as Eddy does when it stops.
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", handleProtocols: (p) => (p.has("eddy.tail.v1") ? "eddy.tail.v1" : false) });
    await new Promise((r) => wss.once("listening", r));
    wss.on("connection", (ws) => {
      ws.send(JSON.stringify({ kind: "event", at: "2026-12-07T10:00:00Z", partition: 0, attrs: { id: "e1", type: "t", source: "/s" }, size: 0 }));
      setTimeout(() => ws.terminate(), 100);
    });
    try {
      const gone = await eddy(["tail", "broker:default", "-n", "demo", "--token", "t"], "", { EDDY_SERVER: `http://127.0.0.1:${(wss.address() as { port: number }).port}` });
      expect(gone.code).toBe(3);
      expect(gone.stdout).toContain("event     e1  t  /s  0 B");
      expect(gone.stderr).toMatch(/closed the tail of broker:default \(1006: the connection dropped\): it stopped or restarted; run eddy tail again/);
    } finally {
      await new Promise((r) => wss.close(r));
    }
  }, 30_000);

  it("prints its version", async () => {
    const r = await eddy(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^eddy \d+\.\d+\.\d+\n$/);
  });

  it("tells a server that speaks plain http from one that speaks TLS, and from none", async () => {
    const { port } = server.address() as { port: number };
    expect(await speaksTls("127.0.0.1", port)).toBe(false);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const free = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await speaksTls("127.0.0.1", free)).toBeUndefined();
  });
});
