// `eddy kubeconfig`: a kubeconfig for kubectl (and client libraries) pointing at this Eddy.
import { stringify } from "yaml";
import { CommandError, EXIT, findToken, flags, isLoopback, serverOf, UsageError } from "../lib.mjs";

export const summary = "print a kubeconfig for kubectl pointing at Eddy";

export const usage = `Usage: eddy kubeconfig [--server URL] [--namespace NS] [--token TOKEN] [--context NAME]

Prints a kubeconfig for this Eddy on standard output:
  eddy kubeconfig > eddy.kubeconfig && export KUBECONFIG=$PWD/eddy.kubeconfig

Flags:
  --server URL      Eddy's URL (default $EDDY_SERVER, else Eddy on this machine:
                    https://127.0.0.1:8787, or http:// when it runs without --https). kubectl
                    sends its token only over https: start Eddy with \`npm start -- --https\`.
  --namespace NS    the context's namespace (default "default")
  --token TOKEN     the admin token (default $EDDY_TOKEN, else ADMIN_TOKEN from .dev.vars)
  --context NAME    name of the cluster, user and context (default "eddy")
  -h, --help        this help

TLS verification is skipped only for a loopback server (127.0.0.1, localhost, ::1), whose
certificate is the self-signed one \`npm start -- --https\` makes; any other server must present a
certificate your system trusts.
`;

export async function run(argv) {
  const { values } = flags(argv, {
    server: { type: "string" },
    namespace: { type: "string", short: "n" },
    token: { type: "string" },
    context: { type: "string" },
  });
  const server = await serverOf(values.server);
  const namespace = values.namespace ?? "default";
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63) {
    throw new UsageError(`--namespace "${namespace}" is not a namespace name: lower-case letters, digits and '-'`);
  }
  const name = values.context ?? "eddy";
  const token = findToken(values.token);
  if (!token) {
    throw new CommandError("no admin token: pass --token, set EDDY_TOKEN, or run this where .dev.vars is (npm start writes it)", EXIT.USAGE);
  }
  if (server.startsWith("http:")) {
    process.stderr.write(`eddy kubeconfig: warning: kubectl never sends a token over plain http, so every request to ${server} will get 401; use an https URL (npm start -- --https)\n`);
  }
  const cluster = { server, ...(server.startsWith("https:") && isLoopback(server) ? { "insecure-skip-tls-verify": true } : {}) };
  process.stdout.write(stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster }],
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace } }],
    "current-context": name,
    preferences: {},
  }));
  return EXIT.OK;
}
