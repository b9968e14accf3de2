// The "501 Unrecognized request method" reproduction of docs/known-issues.md, rerun on every test
// run against a one-line Worker under plain Miniflare and against Eddy under `npm start`. These
// assert what the runtime does today: if one fails, workerd or Node changed, and the known issue
// (and this test) needs updating.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { miniflareWorker, reproduce } from "../../scripts/repro-keepalive-501.mjs";

type Row = { case: string; first: string; second: string };
const p = inject("platform");
let worker: { port: number; stop: () => Promise<void> };
const results: Record<string, Row[]> = {};

beforeAll(async () => {
  worker = await miniflareWorker();
  results.miniflare = await reproduce(worker.port);
  results.eddy = await reproduce(p.port, "127.0.0.1", "/healthz");
}, 120_000);
afterAll(async () => {
  await worker?.stop();
});

const row = (server: string, name: string) => results[server]!.find((r) => r.case === name)!;

describe.each(["miniflare", "eddy"])("keep-alive after a request with a body, %s", (server) => {
  it.each(["GET", "DELETE", "OPTIONS"])("%s with a body Node's http client leaves unframed: the body's bytes start the next request, 501", (method) => {
    const r = row(server, `${method}, body as Node's http client sends it (no framing)`);
    expect(r.second, JSON.stringify(r)).toBe("501 Not Implemented");
  });

  it.each(["GET", "DELETE", "OPTIONS"])("%s with a chunked body: the next request is answered", (method) => {
    const r = row(server, `${method}, body chunked`);
    expect(r.second, JSON.stringify(r)).toBe("200 OK");
  });

  it("a chunked body with a trailer field: workerd leaves the trailer on the connection, 501", () => {
    const r = row(server, "POST, body chunked with a trailer field");
    expect(r.second, JSON.stringify(r)).toBe("501 Not Implemented");
  });

  it("a chunked body with a chunk extension: workerd fails the request and closes the connection", () => {
    const r = row(server, "POST, body chunked with a chunk extension");
    expect(r.first, JSON.stringify(r)).toMatch(server === "miniflare" ? /^500/ : /^(500|404)/);
    expect(r.second, JSON.stringify(r)).toBe("connection closed");
  });
});
