// `eddy tail`: what a Broker, Channel or Trigger sees, live, over the tail WebSocket.
import WebSocket from "ws";
import { CommandError, EXIT, findToken, flags, isLoopback, parseTarget, serverOf, targetArg, UsageError } from "../lib.mjs";

export const summary = "watch accepted events and delivery outcomes live";

export const usage = `Usage: eddy tail TARGET [flags]

Prints one line per accepted event and per delivery outcome until Ctrl-C (or --count).
  eddy tail broker:default -n demo
  eddy tail trigger:orders -n demo -o json

  TARGET                broker:NAME, channel:NAME, inmemorychannel:NAME or trigger:NAME (or kind/NAME)
  -n, --namespace NS    default $EDDY_NAMESPACE, else "default"
  --server URL          default $EDDY_SERVER, else Eddy on this machine (https://127.0.0.1:8787,
                        or http:// when it runs without --https)
  --token TOKEN         the admin token (default $EDDY_TOKEN, else ADMIN_TOKEN from .dev.vars)
  --count N             stop after N messages
  -o, --output FORMAT   text (default) or json (one JSON object per line)
  --insecure            accept a self-signed certificate from a server not on this machine

Exit codes: 0 done (Ctrl-C or --count); 1 Eddy refused (401, 404); 2 wrong command line; 3 Eddy
could not be reached, or went away while tailing.
`;

const PATHS = {
  broker: "eventing.knative.dev/v1/namespaces/%s/brokers", trigger: "eventing.knative.dev/v1/namespaces/%s/triggers",
  channel: "messaging.knative.dev/v1/namespaces/%s/channels", inmemorychannel: "messaging.knative.dev/v1/namespaces/%s/inmemorychannels",
};

export function tailUrl(target, server, namespace) {
  const { kind, name } = parseTarget(target, Object.keys(PATHS));
  return `${server.replace(/^http/, "ws")}/apis/${PATHS[kind].replace("%s", namespace)}/${name}/tail`;
}

/** One human line per tail message. */
export function line(m) {
  if (m.kind === "event") return `${m.at}  event     ${m.attrs.id}  ${m.attrs.type}  ${m.attrs.source}  ${m.size} B${m.dataPreview ? `  ${m.dataPreview.replace(/\s+/g, " ").slice(0, 80)}` : ""}`;
  if (!m.route && m.outcome === "dropped") return `${m.at}  ${m.outcome.padEnd(9)} ${m.eventId}  (${m.reason ?? "no route"})`;
  return `${m.at}  ${m.outcome.padEnd(9)} ${m.eventId}  → ${m.route} (${m.hop}, attempt ${m.attempt}${m.status ? `, HTTP ${m.status}` : ""})`;
}

export async function run(argv) {
  const { values, positionals } = flags(argv, {
    namespace: { type: "string", short: "n" }, server: { type: "string" }, token: { type: "string" }, count: { type: "string" },
    output: { type: "string", short: "o" }, insecure: { type: "boolean" },
  }, { positionals: true });
  const { target, rest } = targetArg(positionals);
  if (!target || rest.length) throw new UsageError("say what to tail, once: broker:NAME, channel:NAME, inmemorychannel:NAME or trigger:NAME");
  const count = values.count === undefined ? Infinity : Number(values.count);
  if (!(count > 0)) throw new UsageError(`--count must be a positive number, got "${values.count}"`);
  const token = findToken(values.token);
  if (!token) throw new UsageError("no admin token: pass --token, set EDDY_TOKEN, or run where .dev.vars is");
  const server = await serverOf(values.server);
  const url = tailUrl(target, server, values.namespace ?? (process.env.EDDY_NAMESPACE || "default"));
  const json = values.output === "json";
  const ws = new WebSocket(url, ["eddy.tail.v1"], { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: !(values.insecure || isLoopback(server)) });
  return new Promise((resolve, reject) => {
    let seen = 0;
    let opened = false;
    let stopping = false;
    const stop = () => {
      stopping = true;
      ws.close(1000);
    };
    ws.on("unexpected-response", (req, res) => {
      // ws leaves the connection open once this listener exists: close it, or the process waits
      // for the server to drop the keep-alive connection (seconds, or never).
      const socket = req.socket;
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => {
        socket?.destroy();
        let message = body.trim();
        try {
          message = JSON.parse(body).message ?? message;
        } catch {
          // not JSON: the text as it is
        }
        reject(new CommandError(`${res.statusCode} ${res.statusMessage}: ${message}`, EXIT.REFUSED));
      });
    });
    ws.on("error", (e) => {
      if (!opened) reject(new CommandError(`cannot reach Eddy at ${server}: ${e.message}; is it running (npm start)? --server or $EDDY_SERVER says where it is`, EXIT.UNREACHABLE));
    });
    ws.on("open", () => {
      opened = true;
      process.stderr.write(`eddy tail: watching ${target} (Ctrl-C to stop)\n`);
    });
    ws.on("message", (data) => {
      const m = JSON.parse(String(data));
      process.stdout.write(`${json ? JSON.stringify(m) : line(m)}\n`);
      if (++seen >= count) stop();
    });
    ws.on("close", (code, reason) => {
      if (stopping) return resolve(EXIT.OK);
      if (!opened) return;
      const why = `${code}${reason?.length ? `: ${reason}` : code === 1006 ? ": the connection dropped" : ""}`;
      reject(new CommandError(`Eddy at ${server} closed the tail of ${target} (${why}): it stopped or restarted; run eddy tail again once it is back`, EXIT.UNREACHABLE));
    });
    process.once("SIGINT", stop);
  });
}
