#!/usr/bin/env node
// `npm run event-display -- [--port 9090] [--status 202]`: a subscriber for trying Eddy out, like
// Knative's event-display. Prints every CloudEvent it receives and answers with --status.
import { createServer } from "node:http";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
};
const port = Number(opt("port", "9090"));
const status = Number(opt("status", "202"));

createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const lines = [`☁️  [:${port}] ${req.method} ${req.url} -> answering ${status}`];
    const ct = req.headers["content-type"] ?? "";
    if (ct.startsWith("application/cloudevents")) {
      lines.push("  structured mode", `  ${body}`);
    } else {
      lines.push("  Context Attributes,");
      for (const [k, v] of Object.entries(req.headers)) if (k.startsWith("ce-")) lines.push(`    ${k.slice(3)}: ${decodeURIComponent(String(v))}`);
      if (req.headers["ce-knativeerrordata"]) lines.push(`    (knativeerrordata decoded: ${Buffer.from(String(req.headers["ce-knativeerrordata"]), "base64").toString("utf8")})`);
      lines.push(`  Data (${ct || "no content type"}),`, `    ${body}`);
    }
    for (const k of ["kn-namespace", "prefer"]) if (req.headers[k]) lines.push(`  header ${k}: ${req.headers[k]}`);
    console.log(lines.join("\n") + "\n");
    // A failure answer carries a body, so dead letters show it in knativeerrordata.
    res.writeHead(status, status >= 300 ? { "Content-Type": "application/json" } : {});
    res.end(status >= 300 ? JSON.stringify({ error: `event-display was started with --status ${status}` }) : "");
  });
}).listen(port, "127.0.0.1", () => console.log(`event-display listening on http://127.0.0.1:${port}/ (answering ${status})`));
