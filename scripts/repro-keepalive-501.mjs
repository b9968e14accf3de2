#!/usr/bin/env node
// Reproduction of "501 Unrecognized request method" on a keep-alive connection (docs/known-issues.md):
// a request with a body on GET, DELETE or OPTIONS, then a plain GET on the same connection.
//
//   node scripts/repro-keepalive-501.mjs              a one-line Worker under plain Miniflare
//   node scripts/repro-keepalive-501.mjs --url URL    any running server (npm start: http://127.0.0.1:8787/healthz)
//
// Each case writes its bytes on a fresh socket, then `GET` of the same path on that socket, and
// prints the status line of each answer. The bytes are exactly what the client named sends.
import { connect } from "node:net";
import { pathToFileURL } from "node:url";

/** The one-line Worker: it reads its request body, whatever the method, and answers 200. */
export const WORKER = "export default { async fetch(req) { return new Response(`read ${(await req.text()).length} bytes of a ${req.method}\\n`); } };";

/**
 * The first request of each case, as bytes on the wire. `node-http` is what Node's http client
 * (20.x, 22.x) writes for `http.request({ method }).end("hello")` on a keep-alive agent: for GET,
 * DELETE and OPTIONS it frames the body with neither Content-Length nor Transfer-Encoding.
 */
export function cases(host) {
  const head = (method, extra) => `${method} /r HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n${extra}\r\n`;
  const list = [];
  for (const method of ["GET", "DELETE", "OPTIONS"]) {
    list.push({ name: `${method}, body as Node's http client sends it (no framing)`, method, bytes: head(method, "") + "hello" });
    list.push({ name: `${method}, body chunked`, method, bytes: head(method, "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n" });
  }
  list.push({ name: "POST, body chunked with a trailer field", method: "POST", bytes: head("POST", "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\nX-Checksum: 1\r\n\r\n" });
  list.push({ name: "POST, body chunked with a chunk extension", method: "POST", bytes: head("POST", "Transfer-Encoding: chunked\r\n") + "5;note=x\r\nhello\r\n0\r\n\r\n" });
  return list;
}

/** Writes `first`, waits for its answer, then sends a plain GET on the same socket; both status lines. */
export function run(port, host, first, path = "/r") {
  return new Promise((resolve) => {
    const s = connect(port, host);
    let buf = "";
    let phase = 0;
    const statuses = () => [...buf.matchAll(/HTTP\/1\.1 (\d{3}[^\r\n]*)/g)].map((m) => m[1]);
    const finish = (note) => {
      clearTimeout(timer);
      s.destroy();
      const [a, b] = statuses();
      resolve({ first: a ?? note, second: b ?? (a ? note : "-"), text: buf });
    };
    const timer = setTimeout(() => finish("no answer within 3 s"), 3000);
    s.on("error", (e) => finish(`connection error (${e.code ?? e.message})`));
    s.on("close", () => finish("connection closed"));
    s.on("data", (d) => {
      buf += d;
      if (phase === 0 && statuses().length >= 1 && /\r\n\r\n/.test(buf)) {
        phase = 1;
        // Let the first answer's body arrive, then the second request on the same connection.
        setTimeout(() => s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: keep-alive\r\n\r\n`), 100);
      } else if (phase === 1 && statuses().length >= 2) setTimeout(() => finish("-"), 100);
    });
    s.on("connect", () => s.write(path === "/r" ? first.bytes : first.bytes.replace(" /r ", ` ${path} `)));
  });
}

/** Runs every case against a server; returns one row per case. */
export async function reproduce(port, host = "127.0.0.1", path = "/r") {
  const rows = [];
  for (const c of cases(`${host}:${port}`)) rows.push({ case: c.name, ...(await run(port, host, c, path)) });
  return rows;
}

/** A one-line Worker under plain Miniflare (no wrangler): its port and a stop function. */
export async function miniflareWorker() {
  const { Miniflare } = await import("miniflare");
  // workerd logs the chunk-extension case's internal error with a stack; the table says it all.
  const quiet = (out, err) => { out.resume(); err.resume(); };
  const mf = new Miniflare({ modules: true, script: WORKER, compatibilityDate: "2026-04-20", host: "127.0.0.1", port: 0, handleRuntimeStdio: quiet });
  const url = await mf.ready;
  return { port: Number(url.port), stop: () => mf.dispose() };
}

async function main() {
  const at = process.argv.indexOf("--url");
  let port;
  let host = "127.0.0.1";
  let path = "/r";
  let stop = async () => {};
  if (at !== -1) {
    const u = new URL(process.argv[at + 1]);
    port = Number(u.port || 80);
    host = u.hostname;
    path = u.pathname;
    console.log(`server: ${u.href}`);
  } else {
    ({ port, stop } = await miniflareWorker());
    console.log(`server: plain Miniflare, one Worker: ${WORKER}`);
  }
  try {
    for (const r of await reproduce(port, host, path)) console.log(`${r.case.padEnd(62)} first: ${r.first.padEnd(28)} next GET: ${r.second}`);
  } finally {
    await stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
