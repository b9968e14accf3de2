// A real HTTP subscriber on 127.0.0.1 that records every request and answers as told.
import { createServer, type IncomingMessage, type Server } from "node:http";

export interface Received {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  at: number;
  /** The status the sink answered with (set once decided). */
  status?: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Wait this long before answering (for timeout tests). */
  delayMs?: number;
}

/** Decides the answer to the n-th request (1-based). */
export type Responder = (req: Received, n: number) => Reply | Promise<Reply>;

export interface Sink {
  url: string;
  received: Received[];
  /** Resolves once at least `n` requests arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
  /** Resolves when no new request arrived for `quietMs` (to check that nothing more comes). */
  settle(quietMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export const accept: Responder = () => ({ status: 202 });

/** Fails the first `n` requests with `status` (409 by default, as Knative's eventshub does), then accepts. */
export function failFirst(n: number, status = 409, body?: string): Responder {
  return (_req, i) => (i <= n ? { status, ...(body ? { body } : {}) } : { status: 202 });
}

function collect(req: IncomingMessage): Promise<Buffer> {
  return new Promise((res, rej) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => res(Buffer.concat(chunks)));
    req.on("error", rej);
  });
}

export async function startSink(respond: Responder = accept): Promise<Sink> {
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer(async (req, res) => {
    const body = await collect(req);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : String(v ?? "");
    const r: Received = { method: req.method ?? "", path: req.url ?? "", headers, body, at: Date.now() };
    received.push(r);
    for (const w of waiters) w();
    const reply = await respond(r, received.length);
    r.status = reply.status;
    if (reply.delayMs) await new Promise((ok) => setTimeout(ok, reply.delayMs));
    res.writeHead(reply.status, reply.headers ?? {});
    res.end(reply.body ?? "");
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    received,
    waitFor(n, timeoutMs = 20_000) {
      if (received.length >= n) return Promise.resolve(received);
      return new Promise((ok, fail) => {
        const check = () => {
          if (received.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            ok(received);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          fail(new Error(`sink got ${received.length} request(s), expected ${n} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    async settle(quietMs = 1500) {
      let last = -1;
      while (last !== received.length) {
        last = received.length;
        await new Promise((ok) => setTimeout(ok, quietMs));
      }
      return received;
    },
    close: () => new Promise((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}

/** Replies 200 with the received event's data plus `suffix`, as a text/plain CloudEvent (Knative's "append" step). */
export function appendReply(suffix: string, type?: string): Responder {
  return (req) => ({
    status: 200,
    headers: {
      "ce-specversion": "1.0", "ce-id": `${req.headers["ce-id"]}-${suffix}`, "ce-source": "/append",
      "ce-type": type ?? req.headers["ce-type"] ?? "append", "Content-Type": "text/plain",
    },
    body: req.body.toString() + suffix,
  });
}

/**
 * Sinks for one test file: `const sink = sinkPool(afterEach)`, then `await sink(responder)` in a
 * test; every sink started in a test is closed after it.
 */
export function sinkPool(afterEach: (fn: () => Promise<void>) => void): (respond?: Responder) => Promise<Sink> {
  const open: Sink[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return async (respond?: Responder) => {
    const s = await startSink(respond);
    open.push(s);
    return s;
  };
}
