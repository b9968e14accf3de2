// `eddy send`: one CloudEvent to a Broker or Channel, like `kn event send`.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { checkUrl, EXIT, findToken, flags, readStdin, request, serverOf, targetArg, UsageError } from "../lib.mjs";

export const summary = "send a CloudEvent to a Broker, Channel or URL";

export const usage = `Usage: eddy send TARGET [flags]

Sends one CloudEvent (binary mode) and prints Eddy's answer.
  eddy send broker:default -n demo --type com.example.greeting --data '{"hello":"world"}'
  echo '{"order":42}' | eddy send channel:orders --type com.example.order --data-file -

Target:
  TARGET                broker:NAME, channel:NAME, inmemorychannel:NAME, sequence:NAME or
                        parallel:NAME (or kind/NAME), kn's Kind:apiVersion:NAME
                        (Broker:eventing.knative.dev/v1:default), or an absolute URL; --to TARGET
                        works too
  -n, --namespace NS    namespace of a named target (default $EDDY_NAMESPACE, else "default")
  --server URL          Eddy's URL for named targets (default $EDDY_SERVER, else Eddy on this
                        machine: https://127.0.0.1:8787, or http:// when it runs without --https)

Event:
  --id ID               ce-id (default: a random UUID)
  --type TYPE           ce-type (default dev.eddy.cli.event)
  --source SOURCE       ce-source (default /eddy/cli)
  --subject SUBJECT     ce-subject
  --ext NAME=VALUE      an extension attribute; repeat for more
  --data TEXT           the data
  --data-file PATH      the data from a file, or - for standard input
  --content-type TYPE   the data's media type (default application/json when the data is JSON,
                        else text/plain)

Connection:
  --token TOKEN         bearer token (default $EDDY_TOKEN, else ADMIN_TOKEN from .dev.vars; the
                        admin token is accepted as a sender)
  --insecure            accept a self-signed certificate from a server that is not on this machine
  -h, --help            this help

Exit codes: 0 accepted (2xx); 1 refused (4xx) or failed (5xx), with Eddy's reason on standard
error; 2 wrong command line; 3 Eddy could not be reached.
`;

const KINDS = { broker: "brokers", channel: "channels", inmemorychannel: "inmemorychannels", sequence: "sequences", parallel: "parallels" };
const ATTRIBUTE = /^[a-z0-9]{1,20}$/;

/** The ingress URL of a target: a URL as given, or the address of a named addressable. */
export function targetUrl(to, server, namespace) {
  if (/^https?:\/\//i.test(to)) return { url: checkUrl(to, "TARGET"), label: to };
  // kubectl's kind/NAME, as kind:NAME; kn's Kind:apiVersion:NAME has a "/" inside its apiVersion.
  const parts = /^[a-z]+\/[^/:]+$/i.test(to) ? to.split("/") : to.split(":");
  const kind = parts[0].toLowerCase();
  const name = parts[parts.length - 1];
  if (!KINDS[kind] || !name || parts.length > 3) {
    throw new UsageError(`"${to}" is not a target: use broker:NAME, channel:NAME, inmemorychannel:NAME, sequence:NAME, parallel:NAME (or kind/NAME) or a URL`);
  }
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new UsageError(`"${name}" is not a resource name: lower-case letters, digits and '-'`);
  return { url: `${server}/${KINDS[kind]}/${namespace}/${name}`, label: `${parts[0][0].toUpperCase()}${parts[0].slice(1)} "${name}" in namespace "${namespace}"` };
}

async function data(values) {
  if (values.data !== undefined && values["data-file"] !== undefined) throw new UsageError("give --data or --data-file, not both");
  if (values["data-file"] === "-") return readStdin();
  if (values["data-file"] !== undefined) {
    try {
      return readFileSync(values["data-file"]);
    } catch (e) {
      throw new UsageError(`cannot read --data-file ${values["data-file"]}: ${e.message}`);
    }
  }
  return values.data !== undefined ? Buffer.from(values.data) : undefined;
}

function looksLikeJson(bytes) {
  try {
    JSON.parse(bytes.toString("utf8"));
    return true;
  } catch {
    return false;
  }
}

export async function run(argv) {
  const { values, positionals } = flags(argv, {
    to: { type: "string" }, "to-url": { type: "string" }, namespace: { type: "string", short: "n" }, server: { type: "string" },
    id: { type: "string" }, type: { type: "string" }, source: { type: "string" }, subject: { type: "string" },
    ext: { type: "string", multiple: true }, data: { type: "string" }, "data-file": { type: "string" }, "content-type": { type: "string" },
    token: { type: "string" }, insecure: { type: "boolean" },
  }, { positionals: true });
  const { target: to, rest } = targetArg(positionals, values.to ?? values["to-url"]);
  if (!to) throw new UsageError("say where the event goes: eddy send broker:NAME (or channel:NAME, ..., a URL)");
  if (rest.length) throw new UsageError(`unexpected "${rest[0]}": send takes one TARGET`);
  const namespace = values.namespace ?? (process.env.EDDY_NAMESPACE || "default");
  targetUrl(to, "", namespace); // a wrong target is a usage error before anything is looked up
  const server = /^https?:\/\//i.test(to) ? "" : await serverOf(values.server);
  const { url, label } = targetUrl(to, server, namespace);
  const headers = {
    "ce-specversion": "1.0",
    "ce-id": values.id ?? randomUUID(),
    "ce-type": values.type ?? "dev.eddy.cli.event",
    "ce-source": values.source ?? "/eddy/cli",
  };
  if (values.subject !== undefined) headers["ce-subject"] = values.subject;
  for (const e of values.ext ?? []) {
    const eq = e.indexOf("=");
    const name = eq > 0 ? e.slice(0, eq) : "";
    if (!ATTRIBUTE.test(name)) throw new UsageError(`--ext "${e}": give NAME=VALUE with a name of 1 to 20 lower-case letters or digits`);
    if (["specversion", "id", "type", "source", "subject", "datacontenttype"].includes(name)) throw new UsageError(`--ext ${name}: use --${name === "datacontenttype" ? "content-type" : name} for that attribute`);
    headers[`ce-${name}`] = e.slice(eq + 1);
  }
  const body = await data(values);
  if (body !== undefined) headers["content-type"] = values["content-type"] ?? (looksLikeJson(body) ? "application/json" : "text/plain");
  const token = findToken(values.token);
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await request(url, { method: "POST", headers, body, insecure: values.insecure ?? false });
  if (res.status >= 200 && res.status < 300) {
    process.stdout.write(`${res.status} ${res.statusText}\n`);
    if (res.body) process.stdout.write(res.body.endsWith("\n") ? res.body : `${res.body}\n`);
    return EXIT.OK;
  }
  const reason = res.body.trim() || "(no reason given)";
  const hint = res.status === 401 ? " (pass --token, or run where .dev.vars is)" : res.status === 404 ? " (is the name and namespace right? kubectl get brokers,channels -n NAMESPACE)" : "";
  process.stderr.write(`eddy send: ${label} ${res.status >= 500 ? "failed on" : "refused"} the event: ${res.status} ${res.statusText}: ${reason}${hint}\n`);
  return EXIT.REFUSED;
}
