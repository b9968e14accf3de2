// `eddy tail`: what a Broker, Channel or Trigger sees, live, over the tail WebSocket.
import WebSocket from "ws";
import { checkUrl, CommandError, EXIT, findToken, flags, isLoopback, UsageError } from "../lib.mjs";

export const summary = "watch accepted events and delivery outcomes live";

export const usage = `Usage: eddy tail TARGET [flags]

Prints one line per accepted event and per delivery outcome until Ctrl-C (or --count).
  eddy tail broker:default -n demo
  eddy tail trigger:orders -n demo -o json

  TARGET                broker:NAME, channel:NAME, inmemorychannel:NAME or trigger:NAME
  -n, --namespace NS    default $EDDY_NAMESPACE, else "default"
  --server URL          default $EDDY_SERVER, else http://127.0.0.1:8787
  --token TOKEN         the admin token (default $EDDY_TOKEN, else ADMIN_TOKEN from .dev.vars)
  --count N             stop after N messages
  -o, --output FORMAT   text (default) or json (one JSON object per line)
  --insecure            accept a self-signed certificate from a server not on this machine

Exit codes: 0 done; 1 Eddy refused (401, 404); 2 wrong command line; 3 Eddy could not be reached.
`;

const PATHS = {
  broker: "eventing.knative.dev/v1/namespaces/%s/brokers", trigger: "eventing.knative.dev/v1/namespaces/%s/triggers",
  channel: "messaging.knative.dev/v1/namespaces/%s/channels", inmemorychannel: "messaging.knative.dev/v1/namespaces/%s/inmemorychannels",
};

export function tailUrl(target, server, namespace) {
  const [kind, name, extra] = String(target ?? "").split(":");
  if (!PATHS[kind] || !name || extra !== undefined) throw new UsageError(`"${target ?? ""}" must be broker:NAME, channel:NAME, inmemorychannel:NAME or trigger:NAME`);
  return `${server.replace(/^http/, "ws")}/apis/${PATHS[kind].replace("%s", namespace)}/${name}/tail`;
}

/** One human line per tail message. */
export function line(m) {
  if (m.kind === "event") return `${m.at}  event     ${m.attrs.id}  ${m.attrs.type}  ${m.attrs.source}  ${m.size} B${m.dataPreview ? `  ${m.dataPreview.replace(/\s+/g, " ").slice(0, 80)}` : ""}`;
  return `${m.at}  ${m.outcome.padEnd(9)} ${m.eventId}  → ${m.route} (${m.hop}, attempt ${m.attempt}${m.status ? `, HTTP ${m.status}` : ""})`;
}

export async function run(argv) {
  const { values, positionals } = flags(argv, {
    namespace: { type: "string", short: "n" }, server: { type: "string" }, token: { type: "string" }, count: { type: "string" },
    output: { type: "string", short: "o" }, insecure: { type: "boolean" },
  }, { positionals: true });
  if (positionals.length !== 1) throw new UsageError("say what to tail: broker:NAME, channel:NAME, inmemorychannel:NAME or trigger:NAME");
  const server = checkUrl(values.server ?? (process.env.EDDY_SERVER || "http://127.0.0.1:8787"), "--server");
  const url = tailUrl(positionals[0], server, values.namespace ?? (process.env.EDDY_NAMESPACE || "default"));
  const token = findToken(values.token);
  if (!token) throw new UsageError("no admin token: pass --token, set EDDY_TOKEN, or run where .dev.vars is");
  const count = values.count === undefined ? Infinity : Number(values.count);
  if (!(count > 0)) throw new UsageError(`--count must be a positive number, got "${values.count}"`);
  const json = values.output === "json";
  const ws = new WebSocket(url, ["eddy.tail.v1"], { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: !(values.insecure || isLoopback(server)) });
  return new Promise((resolve, reject) => {
    let seen = 0;
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => reject(new CommandError(`${res.statusCode} ${res.statusMessage}: ${(() => { try { return JSON.parse(body).message; } catch { return body.trim(); } })()}`, EXIT.REFUSED)));
    });
    ws.on("error", (e) => reject(new CommandError(`cannot reach Eddy at ${server}: ${e.message}; is it running (npm start)?`, EXIT.UNREACHABLE)));
    ws.on("open", () => process.stderr.write(`eddy tail: watching ${positionals[0]} (Ctrl-C to stop)\n`));
    ws.on("message", (data) => {
      const m = JSON.parse(String(data));
      process.stdout.write(`${json ? JSON.stringify(m) : line(m)}\n`);
      if (++seen >= count) ws.close(1000);
    });
    ws.on("close", () => resolve(EXIT.OK));
    process.once("SIGINT", () => ws.close(1000));
  });
}
