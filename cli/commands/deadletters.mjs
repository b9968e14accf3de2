// `eddy deadletters`: what a Broker or Channel kept because no dead-letter sink took it.
import { apiCall as call, EXIT, findToken, flags, parseTarget, serverOf, targetArg, UsageError } from "../lib.mjs";

export const summary = "list, show, redrive or purge the dead letters a Broker or Channel kept";

export const usage = `Usage: eddy deadletters <list|show|redrive|purge> TARGET [flags]

Events whose retries ran out with no dead-letter sink (or that the sink refused for good) are kept
for eddy.dev/deadletter-retention (14 days by default).
  eddy deadletters list broker:default -n demo
  eddy deadletters show broker:default -n demo ID
  eddy deadletters redrive broker:default -n demo --trigger audit     (or IDs, or --all)
  eddy deadletters purge broker:default -n demo ID [ID...]

  TARGET                broker:NAME, channel:NAME or inmemorychannel:NAME (or kind/NAME); --of
                        TARGET works too
  --trigger NAME        (list, redrive) only those of this Trigger or Subscription
  --all                 (redrive) every kept dead letter
  -n, --namespace NS    default $EDDY_NAMESPACE, else "default"
  --server URL          default $EDDY_SERVER, else Eddy on this machine (https://127.0.0.1:8787,
                        or http:// when it runs without --https)
  --token TOKEN         the admin token (default $EDDY_TOKEN, else ADMIN_TOKEN from .dev.vars)
  --insecure            accept a self-signed certificate from a server not on this machine
  -o, --output FORMAT   (list, show) table (default for list) or json

Exit codes: 0 done; 1 Eddy refused (for example 404: no such entry); 2 wrong command line;
3 Eddy could not be reached.
`;

const PLURALS = { broker: "eventing.knative.dev/v1/namespaces/%s/brokers", channel: "messaging.knative.dev/v1/namespaces/%s/channels", inmemorychannel: "messaging.knative.dev/v1/namespaces/%s/inmemorychannels" };

/** The API URL of a target's dead letters. */
export function deadLettersUrl(target, server, namespace) {
  const { kind, name } = parseTarget(target, Object.keys(PLURALS));
  return `${server}/apis/${PLURALS[kind].replace("%s", namespace)}/${name}/deadletters`;
}

function table(items) {
  if (!items.length) return "No dead letters.\n";
  const by = items.some((e) => e.subscription !== undefined) ? "SUBSCRIPTION" : "TRIGGER";
  const rows = [["ID", "EVENT", "TYPE", by, "STATUS", "REASON", "ATTEMPTS", "AT"], ...items.map((e) => [e.id, e.eventId, e.type, e.trigger ?? e.subscription ?? e.route ?? "", String(e.status ?? "-"), e.reason, String(e.attempts), e.at])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n") + "\n";
}

export async function run(argv) {
  const [action, ...rest] = argv;
  if (!["list", "show", "redrive", "purge"].includes(action)) throw new UsageError(`say what to do: list, show, redrive or purge (got "${action ?? ""}")`);
  const { values, positionals: args } = flags(rest, {
    of: { type: "string" }, namespace: { type: "string", short: "n" }, server: { type: "string" }, token: { type: "string" },
    insecure: { type: "boolean" }, trigger: { type: "string" }, all: { type: "boolean" }, output: { type: "string", short: "o" },
  }, { positionals: true });
  const { target, rest: positionals } = targetArg(args, values.of);
  if (!target) throw new UsageError(`say whose dead letters: eddy deadletters ${action} broker:NAME (or channel:NAME, inmemorychannel:NAME)`);
  parseTarget(target, Object.keys(PLURALS));
  const server = await serverOf(values.server);
  const url = deadLettersUrl(target, server, values.namespace ?? (process.env.EDDY_NAMESPACE || "default"));
  const token = findToken(values.token);
  if (!token) throw new UsageError("no admin token: pass --token, set EDDY_TOKEN, or run where .dev.vars is");
  const opts = { token, insecure: values.insecure ?? false };
  const json = values.output === "json";
  if (values.output && !["json", "table"].includes(values.output)) throw new UsageError(`-o ${values.output}: use table or json`);
  if (action === "list") {
    const r = await call(`${url}${values.trigger ? `?trigger=${encodeURIComponent(values.trigger)}` : ""}`, opts);
    process.stdout.write(json ? `${JSON.stringify(r.items, null, 2)}\n` : table(r.items));
  } else if (action === "show") {
    if (positionals.length !== 1) throw new UsageError("show takes one dead-letter ID (see eddy deadletters list)");
    process.stdout.write(`${JSON.stringify(await call(`${url}/${encodeURIComponent(positionals[0])}`, opts), null, 2)}\n`);
  } else if (action === "redrive") {
    const sel = values.all ? { all: true } : values.trigger ? { trigger: values.trigger } : positionals.length ? { ids: positionals } : undefined;
    if (!sel) throw new UsageError("redrive what? give IDs, --trigger NAME or --all");
    const r = await call(`${url}/redrive`, opts, "POST", sel);
    process.stdout.write(`redriven: ${r.redriven}${r.skipped.length ? `; skipped (their Trigger or Subscription is gone): ${r.skipped.join(", ")}` : ""}\n`);
  } else {
    if (!positionals.length) throw new UsageError("purge takes one or more dead-letter IDs");
    for (const id of positionals) await call(`${url}/${encodeURIComponent(id)}`, opts, "DELETE");
    process.stdout.write(`purged: ${positionals.length}\n`);
  }
  return EXIT.OK;
}
