// `eddy replay`: deliver again a window of what an archiving Broker or Channel accepted (a Replay).
import { apiCall as call, CommandError, EXIT, findToken, flags, parseTarget, serverOf, targetArg, UsageError } from "../lib.mjs";

export const summary = "replay a time window of an archiving Broker or Channel; list, show or delete Replays";

export const usage = `Usage: eddy replay TARGET --from TIME [--to TIME] [flags]
       eddy replay list|status NAME|delete NAME [flags]

Creates a Replay (eventing.eddy.dev/v1alpha1): the events TARGET accepted between --from and --to
are delivered again, in acceptance order, through the normal delivery, each with the extension
eddyreplay: <replay name>. TARGET must archive (annotation eddy.dev/archive-retention, e.g. P7D).
  eddy replay broker:default -n demo --from -2h --trigger audit --wait
  eddy replay channel:orders --from 2026-03-01T10:00:00Z --to 2026-03-01T11:00:00Z
  eddy replay list -n demo
  eddy replay status fix-audit -n demo

  TARGET                broker:NAME, channel:NAME or inmemorychannel:NAME (or kind/NAME); --of
                        TARGET works too
  --from TIME           start of the window: RFC 3339 (2026-03-01T10:00:00Z), "now", or relative to
                        now: -30s, -15m, -2h, -1d, -1h30m
  --to TIME             end of the window (default now); same forms
  --trigger NAME        (broker) only this Trigger; by default every Trigger whose filter matches
  --subscription NAME   (channel) only this Subscription
  --filter JSON         a filter in the Trigger dialects, e.g. '{"prefix":{"type":"com.example."}}';
                        repeat for more (all must match)
  --type TYPE           shorthand for --filter '{"exact":{"type":"TYPE"}}'
  --name NAME           the Replay's name (default: TARGET's name, "-replay-" and a random suffix)
  --wait                wait until it ends, printing progress on standard error; exit 0 when it
                        succeeded, 1 when it failed (Ctrl-C stops waiting, not the Replay)
  --timeout DURATION    with --wait: give up waiting after this long (e.g. 10m), exit 1
  -n, --namespace NS    default $EDDY_NAMESPACE, else "default"
  --server URL          default $EDDY_SERVER, else Eddy on this machine (https://127.0.0.1:8787,
                        or http:// when it runs without --https)
  --token TOKEN         the admin token (default $EDDY_TOKEN, else ADMIN_TOKEN from .dev.vars)
  --insecure            accept a self-signed certificate from a server not on this machine
  -o, --output FORMAT   text (default) or json (the Replay as Eddy returns it)

Exit codes: 0 done (with --wait: Succeeded); 1 Eddy refused (4xx, 5xx), or the Replay failed or
timed out; 2 wrong command line; 3 Eddy could not be reached.
`;

const API = "eventing.eddy.dev/v1alpha1";
const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const RELATIVE = /^-((?:\d+(?:ms|s|m|h|d))+)$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A duration such as 90s, 15m, 2h, 1d or 1h30m, in ms; undefined when it is not one. */
export function durationMs(text) {
  if (!/^(?:\d+(?:ms|s|m|h|d))+$/.test(text)) return undefined;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) ms += Number(n) * UNITS[unit];
  return ms;
}

/**
 * A time of the command line as RFC 3339 (UTC, what the API wants): RFC 3339 as given, "now", or
 * relative to `now` (-15m, -2h, -1d, -1h30m). Throws UsageError otherwise.
 */
export function parseTime(text, flag, now = Date.now()) {
  const t = String(text ?? "").trim();
  if (t === "now") return new Date(now).toISOString();
  const rel = RELATIVE.exec(t);
  if (rel) return new Date(now - durationMs(rel[1])).toISOString();
  if (RFC3339.test(t) && Number.isFinite(Date.parse(t))) return t;
  throw new UsageError(`${flag} "${t}" is not a time: use RFC 3339 (2026-03-01T10:00:00Z), "now", or relative to now (-15m, -2h, -1d)`);
}

/**
 * parseArgs takes "-15m" after --from for a flag of its own: join a relative time to its flag
 * (--from=-15m) first.
 */
export function joinRelative(argv) {
  const out = [];
  for (let i = 0; i < argv.length; i++) {
    if ((argv[i] === "--from" || argv[i] === "--to") && RELATIVE.test(argv[i + 1] ?? "")) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

/** The spec's target of TARGET. */
export function targetSpec(target) {
  const { kind: k, name } = parseTarget(target, ["broker", "channel", "inmemorychannel"]);
  if (k === "broker") return { name, spec: { broker: name } };
  return { name, spec: { channel: { kind: k === "channel" ? "Channel" : "InMemoryChannel", name } } };
}

/** The Replay manifest a command line asks for. */
export function replayManifest(values, namespace, now = Date.now()) {
  const target = targetSpec(values.of);
  if (values.from === undefined) throw new UsageError("--from is required: where the window starts (RFC 3339, now, or -15m, -2h...)");
  const from = parseTime(values.from, "--from", now);
  const to = parseTime(values.to ?? "now", "--to", now);
  if (Date.parse(from) > Date.parse(to)) throw new UsageError(`--from (${from}) is after --to (${to})`);
  const isBroker = "broker" in target.spec;
  if (values.trigger !== undefined && !isBroker) throw new UsageError("--trigger is for a Broker; a Channel's replay takes --subscription");
  if (values.subscription !== undefined && isBroker) throw new UsageError("--subscription is for a Channel; a Broker's replay takes --trigger");
  const filters = (values.filter ?? []).map((f) => {
    let parsed;
    try {
      parsed = JSON.parse(f);
    } catch {
      throw new UsageError(`--filter '${f}' is not JSON: give one filter such as '{"exact":{"type":"com.example.order"}}'`);
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new UsageError(`--filter '${f}' must be one filter object, e.g. '{"prefix":{"type":"com.example."}}'`);
    return parsed;
  });
  if (values.type !== undefined) filters.push({ exact: { type: values.type } });
  if (values.name !== undefined && !NAME.test(values.name)) throw new UsageError(`--name "${values.name}" is not a resource name: lower-case letters, digits and '-'`);
  const metadata = values.name !== undefined ? { name: values.name, namespace } : { generateName: `${target.name}-replay-`, namespace };
  const spec = {
    ...target.spec, from, to,
    ...(values.trigger !== undefined ? { trigger: values.trigger } : {}),
    ...(values.subscription !== undefined ? { subscription: values.subscription } : {}),
    ...(filters.length ? { filters } : {}),
  };
  return { apiVersion: API, kind: "Replay", metadata, spec };
}

function describeTarget(spec) {
  if (spec?.broker) return `broker:${spec.broker}`;
  const ch = spec?.channel;
  if (typeof ch === "string") return `channel:${ch}`;
  return ch ? `${String(ch.kind).toLowerCase()}:${ch.name}` : "-";
}

const succeededOf = (r) => r?.status?.conditions?.find((c) => c.type === "Succeeded");

/** One line on a Replay's state. */
export function progressLine(r) {
  const c = succeededOf(r);
  const p = r?.status?.progress;
  const parts = p ? `, ${p.partitionsDone ?? 0}/${p.partitions ?? "?"} partition(s) done${p.position ? `, at ${p.position}` : ""}` : "";
  const state = !c ? "pending" : c.status === "True" ? "succeeded" : c.status === "False" ? `failed (${c.reason}): ${c.message}` : `running (${c.reason})`;
  return `replay ${r.metadata.name}: ${state}; replayed ${r.status?.replayed ?? 0}${parts}`;
}

function table(items) {
  if (!items.length) return "No replays.\n";
  const rows = [["NAME", "TARGET", "FROM", "TO", "SUCCEEDED", "REASON", "REPLAYED"], ...items.map((r) => {
    const c = succeededOf(r);
    return [r.metadata.name, describeTarget(r.spec), String(r.spec?.from ?? ""), String(r.spec?.to ?? ""), c?.status ?? "Unknown", c?.reason ?? "-", String(r.status?.replayed ?? 0)];
  })];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n") + "\n";
}

/** Polls a Replay until Succeeded is True or False; progress on standard error when it changes. */
async function waitFor(url, opts, timeoutMs, quiet) {
  const until = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  let said = "";
  for (;;) {
    const r = await call(url, opts);
    const c = succeededOf(r);
    const line = progressLine(r);
    if (c && c.status !== "Unknown") return r;
    if (!quiet && line !== said) process.stderr.write(`${line}\n`);
    said = line;
    if (Date.now() >= until) throw new CommandError(`${line}; still running after --timeout, stopped waiting (the Replay goes on; delete it to stop it)`, EXIT.REFUSED);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function run(argv) {
  const actions = ["list", "status", "delete"];
  const action = actions.includes(argv[0]) ? argv[0] : "create";
  const rest = action === "create" ? (argv[0] === "create" ? argv.slice(1) : argv) : argv.slice(1);
  const { values, positionals } = flags(joinRelative(rest), {
    of: { type: "string" }, from: { type: "string" }, to: { type: "string" }, trigger: { type: "string" }, subscription: { type: "string" },
    filter: { type: "string", multiple: true }, type: { type: "string" }, name: { type: "string" }, wait: { type: "boolean" }, timeout: { type: "string" },
    namespace: { type: "string", short: "n" }, server: { type: "string" }, token: { type: "string" }, insecure: { type: "boolean" }, output: { type: "string", short: "o" },
  }, { positionals: true });
  if (values.output && !["json", "text"].includes(values.output)) throw new UsageError(`-o ${values.output}: use text or json`);
  const json = values.output === "json";
  const namespace = values.namespace ?? (process.env.EDDY_NAMESPACE || "default");
  let manifest;
  if (action === "create") {
    const { target, rest } = targetArg(positionals, values.of);
    if (!target) throw new UsageError("say what to replay: eddy replay broker:NAME --from TIME (or list, status NAME, delete NAME)");
    if (rest.length) throw new UsageError(`unexpected "${rest[0]}": a replay takes one TARGET`);
    manifest = replayManifest({ ...values, of: target }, namespace);
  } else if (action === "list") {
    if (positionals.length) throw new UsageError("list takes no names");
  } else if (positionals.length !== 1) throw new UsageError(`${action} takes one Replay name (see eddy replay list)`);
  const timeoutMs = values.timeout === undefined ? undefined : durationMs(values.timeout);
  if (values.timeout !== undefined && !timeoutMs) throw new UsageError(`--timeout "${values.timeout}" must be a duration such as 90s, 10m or 1h`);
  const token = findToken(values.token);
  if (!token) throw new UsageError("no admin token: pass --token, set EDDY_TOKEN, or run where .dev.vars is");
  const opts = { token, insecure: values.insecure ?? false };
  const base = `${await serverOf(values.server)}/apis/${API}/namespaces/${encodeURIComponent(namespace)}/replays`;

  if (action === "list") {
    const r = await call(base, opts);
    process.stdout.write(json ? `${JSON.stringify(r.items, null, 2)}\n` : table(r.items ?? []));
    return EXIT.OK;
  }
  if (action === "delete") {
    await call(`${base}/${encodeURIComponent(positionals[0])}`, opts, "DELETE");
    process.stdout.write(`replay ${positionals[0]} deleted\n`);
    return EXIT.OK;
  }
  let replay;
  if (action === "status") {
    replay = await call(`${base}/${encodeURIComponent(positionals[0])}`, opts);
    if (values.wait) replay = await waitFor(`${base}/${encodeURIComponent(replay.metadata.name)}`, opts, timeoutMs, json);
  } else {
    replay = await call(base, opts, "POST", manifest);
    const s = replay.spec;
    if (!json || values.wait) process.stderr.write(`replay ${replay.metadata.name} created: ${describeTarget(s)} from ${s.from} to ${s.to}${s.trigger ? `, Trigger ${s.trigger}` : ""}${s.subscription ? `, Subscription ${s.subscription}` : ""}\n`);
    if (values.wait) replay = await waitFor(`${base}/${encodeURIComponent(replay.metadata.name)}`, opts, timeoutMs, json);
  }
  const c = succeededOf(replay);
  const failed = values.wait && c?.status === "False";
  if (json) process.stdout.write(`${JSON.stringify(replay, null, 2)}\n`);
  else if (action === "create" && !values.wait) process.stdout.write(`${replay.metadata.name}\n`);
  else if (!failed) process.stdout.write(`${progressLine(replay)}\n`);
  if (failed) throw new CommandError(progressLine(replay), EXIT.REFUSED);
  return EXIT.OK;
}
