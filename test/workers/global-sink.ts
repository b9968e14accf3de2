// Vitest globalSetup for the workers project: a real HTTP sink on 127.0.0.1 that tests inside
// workerd drive by path and read back over HTTP:
//   /ok/<key>                 202
//   /status/<code>/<key>      always <code>
//   /fail/<n>/<code>/<key>    <code> for the first n requests, then 202
//   /retryafter/<n>/<code>/<s>/<key>  <code> with Retry-After: <s> for the first n requests, then 202
//   /reply/<type>/<key>       200 with a binary-mode CloudEvent of that type
//   /respond/<type>/<key>     a RequestReply responder: 200 with a CloudEvent of that type whose replyid
//                             is the request's correlationid and whose data is the request's body
//   /text/<key>               200 with a plain-text body (not a CloudEvent)
//   /slow/<ms>/<key>          202 after <ms> milliseconds
//   GET /__log/<key>          the requests received for <key>, as JSON
//   GET /__concurrency/<key>  the most requests for <key> that were open at once, as JSON { max }
import { createServer } from "node:http";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    sinkUrl: string;
  }
}

interface Rec { method: string; path: string; headers: Record<string, string>; body: string; at: number }

export default async function setup(project: TestProject) {
  const log = new Map<string, Rec[]>();
  const open = new Map<string, { now: number; max: number }>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const parts = (req.url ?? "/").split("?")[0]!.split("/").filter(Boolean);
      if (req.method === "GET" && parts[0] === "__concurrency") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ max: open.get(parts[1] ?? "")?.max ?? 0 }));
        return;
      }
      if (req.method === "GET" && parts[0] === "__log") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify(log.get(parts[1] ?? "") ?? []));
        return;
      }
      const key = parts[parts.length - 1] ?? "";
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = String(v);
      const list = log.get(key) ?? [];
      list.push({ method: req.method ?? "", path: req.url ?? "", headers, body: Buffer.concat(chunks).toString("base64"), at: Date.now() });
      log.set(key, list);
      const n = list.length;
      switch (parts[0]) {
        case "status":
          res.writeHead(Number(parts[1]));
          return res.end("failure body");
        case "fail":
          if (n <= Number(parts[1])) {
            res.writeHead(Number(parts[2]));
            return res.end("failure body");
          }
          res.writeHead(202);
          return res.end();
        case "retryafter":
          if (n <= Number(parts[1])) {
            res.writeHead(Number(parts[2]), { "Retry-After": parts[3]! });
            return res.end("slow down");
          }
          res.writeHead(202);
          return res.end();
        case "reply":
          res.writeHead(200, { "ce-specversion": "1.0", "ce-id": `reply-${n}`, "ce-source": "/sink", "ce-type": parts[1]!, "Content-Type": "application/json" });
          return res.end(JSON.stringify({ replyTo: headers["ce-id"] }));
        case "slow": {
          const c = open.get(key) ?? { now: 0, max: 0 };
          open.set(key, c);
          c.now++;
          c.max = Math.max(c.max, c.now);
          setTimeout(() => {
            c.now--;
            res.writeHead(202);
            res.end();
          }, Number(parts[1]));
          return;
        }
        case "respond":
          res.writeHead(200, {
            "ce-specversion": "1.0", "ce-id": `response-${n}`, "ce-source": "/responder", "ce-type": parts[1]!,
            "ce-replyid": headers["ce-correlationid"] ?? "", "Content-Type": headers["content-type"] ?? "application/json",
          });
          return res.end(Buffer.concat(chunks));
        case "text":
          res.writeHead(200, { "Content-Type": "text/plain" });
          return res.end("OK");
        default:
          res.writeHead(202);
          return res.end();
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  project.provide("sinkUrl", `http://127.0.0.1:${(server.address() as { port: number }).port}`);
  return () => new Promise<void>((ok) => server.close(() => ok()));
}
