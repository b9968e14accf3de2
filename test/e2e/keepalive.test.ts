// Keep-alive: a request Eddy refuses early, before or while reading its body, must leave the
// connection ready for the next request. Each case sends the refused request with a body and then
// a valid one on the same socket, with the body framed by Content-Length and by chunked encoding
// (a chunked body over the size limit used to be cancelled, which stalled the next request behind
// wrangler's proxy or made workerd drop the connection; see docs/known-issues.md).
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Api, broker, uniqueNs } from "../support/api.js";
import { sign } from "../support/sign.js";
import { startSink, type Sink } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const ns = uniqueNs("ka");
const W = "sources.eddy.dev/v1alpha1";
let sink: Sink;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}
interface Req {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One HTTP/1.1 keep-alive connection, spoken byte by byte so nothing hides a desync. */
class Conn {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private ended: string | undefined;
  private constructor(private readonly s: Socket) {
    s.on("data", (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    s.on("error", (e) => (this.ended = (e as NodeJS.ErrnoException).code ?? e.message));
    s.on("close", () => {
      this.ended ??= "closed by the server";
      this.wake?.();
    });
  }

  static open(port: number): Promise<Conn> {
    return new Promise((res, rej) => {
      const s = connect(port, "127.0.0.1", () => res(new Conn(s)));
      s.once("error", rej);
    });
  }

  async send(req: Req, framing: "length" | "chunked", timeoutMs: number): Promise<Answer> {
    const body = Buffer.from(req.body ?? "");
    const head = [`${req.method} ${req.path} HTTP/1.1`, `Host: 127.0.0.1:${p.port}`, "Connection: keep-alive"];
    for (const [k, v] of Object.entries(req.headers ?? {})) head.push(`${k}: ${v}`);
    if (req.body !== undefined) head.push(framing === "chunked" ? "Transfer-Encoding: chunked" : `Content-Length: ${body.length}`);
    this.s.write(head.join("\r\n") + "\r\n\r\n");
    if (req.body !== undefined && framing === "chunked") {
      for (let i = 0; i < body.length; i += 16_384) {
        const part = body.subarray(i, i + 16_384);
        this.s.write(`${part.length.toString(16)}\r\n`);
        this.s.write(part);
        this.s.write("\r\n");
      }
      this.s.write("0\r\n\r\n");
    } else if (body.length) {
      this.s.write(body);
    }
    return this.read(`${req.method} ${req.path}`, timeoutMs);
  }

  private async read(what: string, timeoutMs: number): Promise<Answer> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const a = this.parse();
      if (a && a.status !== 100) return a;
      if (a) continue; // 100 Continue: the final answer follows
      if (this.ended) throw new Error(`no answer to ${what}: connection ${this.ended}`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no answer to ${what} within ${timeoutMs} ms on the reused connection`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.wake = () => (clearTimeout(t), r());
      });
    }
  }

  /** One complete response off the front of the buffer, or undefined when it has not all arrived. */
  private parse(): Answer | undefined {
    const end = this.buf.indexOf("\r\n\r\n");
    if (end < 0) return undefined;
    const [statusLine, ...lines] = this.buf.subarray(0, end).toString("latin1").split("\r\n");
    const headers: Record<string, string> = {};
    for (const l of lines) headers[l.slice(0, l.indexOf(":")).toLowerCase()] = l.slice(l.indexOf(":") + 1).trim();
    const status = Number(statusLine!.split(" ")[1]);
    let rest = this.buf.subarray(end + 4);
    let body: Buffer;
    if (status === 100) body = Buffer.alloc(0);
    else if (headers["transfer-encoding"]?.includes("chunked")) {
      const parts: Buffer[] = [];
      for (;;) {
        const eol = rest.indexOf("\r\n");
        if (eol < 0) return undefined;
        const size = parseInt(rest.subarray(0, eol).toString(), 16);
        if (rest.length < eol + 2 + size + 2) return undefined;
        parts.push(rest.subarray(eol + 2, eol + 2 + size));
        rest = rest.subarray(eol + 2 + size + 2);
        if (size === 0) break;
      }
      body = Buffer.concat(parts);
    } else {
      const n = Number(headers["content-length"] ?? 0);
      if (rest.length < n) return undefined;
      body = rest.subarray(0, n);
      rest = rest.subarray(n);
    }
    this.buf = rest;
    return { status, headers, body: body.toString() };
  }

  close(): void {
    this.s.destroy();
  }
}

const auth = () => ({ Authorization: `Bearer ${p.token}` });
const brokerPath = `/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers/default`;
const yaml = `apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata:\n  name: default\n  namespace: ${ns}\n`;
const big = (bytes: number) => `${yaml}# ${"p".repeat(bytes)}\n`;
// Ingresses other than webhooks want a sender; the admin token is one.
const ce = (id: string) => ({ ...auth(), "ce-specversion": "1.0", "ce-id": id, "ce-source": "/keepalive", "ce-type": "com.example.keepalive", "Content-Type": "application/json" });
const pushBody = JSON.stringify({ ref: "refs/heads/main", repository: { html_url: "https://github.com/octocat/Hello-World" } });

/** The valid request that follows, and what a correct answer to it looks like. */
const followUps = {
  api: { req: (): Req => ({ method: "GET", path: brokerPath, headers: auth() }), check: (a: Answer) => expect(JSON.parse(a.body)).toMatchObject({ kind: "Broker", metadata: { name: "default", namespace: ns } }), status: 200 },
  ingress: { req: (): Req => ({ method: "POST", path: `/brokers/${ns}/default`, headers: ce(`next-${Math.random()}`), body: '{"ok":true}' }), check: (a: Answer) => expect(a.body).toBe(""), status: 202 },
};

const cases: Array<{ name: string; first: () => Req; status: number; then: keyof typeof followUps }> = [
  { name: "API 401, wrong token", first: () => ({ method: "PUT", path: brokerPath, headers: { Authorization: "Bearer wrong", "Content-Type": "application/yaml" }, body: yaml }), status: 401, then: "api" },
  { name: "API 401, no token", first: () => ({ method: "PUT", path: brokerPath, headers: { "Content-Type": "application/yaml" }, body: yaml }), status: 401, then: "api" },
  { name: "API 404, unknown kind", first: () => ({ method: "PUT", path: `/apis/eventing.knative.dev/v1/namespaces/${ns}/nothings/x`, headers: { ...auth(), "Content-Type": "application/yaml" }, body: yaml }), status: 404, then: "api" },
  { name: "API 400, invalid namespace", first: () => ({ method: "PUT", path: "/apis/eventing.knative.dev/v1/namespaces/Not_Valid/brokers/default", headers: { ...auth(), "Content-Type": "application/yaml" }, body: yaml }), status: 400, then: "api" },
  { name: "API 405, POST to an object", first: () => ({ method: "POST", path: brokerPath, headers: { ...auth(), "Content-Type": "application/yaml" }, body: yaml }), status: 405, then: "api" },
  { name: "API 415, strategic merge patch", first: () => ({ method: "PATCH", path: brokerPath, headers: { ...auth(), "Content-Type": "application/strategic-merge-patch+json" }, body: '{"spec":{}}' }), status: 415, then: "api" },
  { name: "API 413, manifest over 1 MiB", first: () => ({ method: "PUT", path: brokerPath, headers: { ...auth(), "Content-Type": "application/yaml" }, body: big(1_100_000) }), status: 413, then: "api" },
  { name: "API 422, invalid manifest", first: () => ({ method: "PUT", path: brokerPath, headers: { ...auth(), "Content-Type": "application/yaml" }, body: `${yaml}spec:\n  delivery:\n    retry: -1\n` }), status: 422, then: "api" },
  { name: "404, no such route", first: () => ({ method: "POST", path: "/nowhere", headers: { "Content-Type": "text/plain" }, body: "hello" }), status: 404, then: "ingress" },
  { name: "ingress 401, no sender token", first: () => ({ method: "POST", path: `/brokers/${ns}/default`, headers: { "ce-specversion": "1.0", "ce-id": "anonymous", "ce-source": "/keepalive", "ce-type": "com.example.keepalive", "Content-Type": "application/json" }, body: '{"a":1}' }), status: 401, then: "ingress" },
  { name: "ingress 404, unknown broker", first: () => ({ method: "POST", path: `/brokers/${ns}/missing`, headers: ce("to-missing"), body: '{"a":1}' }), status: 404, then: "ingress" },
  { name: "ingress 405, PUT", first: () => ({ method: "PUT", path: `/brokers/${ns}/default`, headers: ce("put"), body: '{"a":1}' }), status: 405, then: "ingress" },
  { name: "ingress 400, not a CloudEvent", first: () => ({ method: "POST", path: `/brokers/${ns}/default`, headers: { ...auth(), "Content-Type": "application/json" }, body: '{"a":1}' }), status: 400, then: "ingress" },
  { name: "ingress 415, unknown event format", first: () => ({ method: "POST", path: `/brokers/${ns}/default`, headers: { ...auth(), "Content-Type": "application/cloudevents+xml" }, body: "<event/>" }), status: 415, then: "ingress" },
  { name: "ingress 413, event over MAX_EVENT_BYTES", first: () => ({ method: "POST", path: `/brokers/${ns}/default`, headers: ce("huge"), body: JSON.stringify({ pad: "p".repeat(300_000) }) }), status: 413, then: "ingress" },
  { name: "webhook 401, bad signature", first: () => ({ method: "POST", path: `/webhooks/${ns}/github`, headers: { "Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": "ka-1", "X-Hub-Signature-256": sign.github("not-the-secret", pushBody) }, body: pushBody }), status: 401, then: "ingress" },
  { name: "webhook 404, unknown source", first: () => ({ method: "POST", path: `/webhooks/${ns}/missing`, headers: { "Content-Type": "application/json" }, body: pushBody }), status: 404, then: "ingress" },
  { name: "webhook 405, PUT", first: () => ({ method: "PUT", path: `/webhooks/${ns}/github`, headers: { "Content-Type": "application/json" }, body: pushBody }), status: 405, then: "ingress" },
  { name: "webhook 413, delivery over MAX_EVENT_BYTES", first: () => ({ method: "POST", path: `/webhooks/${ns}/github`, headers: { "Content-Type": "application/json", "X-GitHub-Event": "push" }, body: JSON.stringify({ pad: "p".repeat(300_000) }) }), status: 413, then: "ingress" },
];

beforeAll(async () => {
  sink = await startSink();
  await api.apply(broker(ns, "default"));
  await api.apply({ apiVersion: W, kind: "WebhookSource", metadata: { name: "github", namespace: ns }, spec: { provider: "github", secrets: ["SECRET_TEST_GITHUB_SECRET"], sink: { uri: sink.url } } });
  await api.waitReady(W, "WebhookSource", ns, "github");
});
afterAll(async () => {
  await sink.close();
});

describe("a refused request leaves its keep-alive connection ready for the next one", () => {
  for (const framing of ["length", "chunked"] as const) {
    describe(`body framed by ${framing === "length" ? "Content-Length" : "chunked encoding"}`, () => {
      for (const c of cases) {
        it(`${c.name}, then a valid ${c.then} request`, async () => {
          const conn = await Conn.open(p.port);
          try {
            const refused = await conn.send(c.first(), framing, 20_000);
            expect(refused.status, refused.body).toBe(c.status);
            // Three seconds: a stalled connection answers only after about five.
            const next = await conn.send(followUps[c.then].req(), framing, 3_000);
            expect(next.status, next.body).toBe(followUps[c.then].status);
            followUps[c.then].check(next);
          } finally {
            conn.close();
          }
        });
      }
    });
  }

  it("a GET with a body on /healthz, then two more requests", async () => {
    const conn = await Conn.open(p.port);
    try {
      expect((await conn.send({ method: "GET", path: "/healthz", body: "unexpected" }, "chunked", 5_000)).body).toBe("ok");
      for (const f of [followUps.api, followUps.ingress]) {
        const a = await conn.send(f.req(), "length", 3_000);
        expect(a.status, a.body).toBe(f.status);
      }
    } finally {
      conn.close();
    }
  });
});
