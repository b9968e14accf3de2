// Shared pieces of the `eddy` command: flags, exit codes, where Eddy is, its token, HTTP.
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** Exit codes scripts can rely on (also in `eddy --help`). */
export const EXIT = {
  OK: 0,
  /** Eddy answered, and the answer was a refusal (4xx) or an error (5xx). */
  REFUSED: 1,
  /** The command line is wrong: unknown flag, missing value, bad attribute name. */
  USAGE: 2,
  /** Eddy could not be reached (connection refused, DNS, TLS). */
  UNREACHABLE: 3,
};

/** A wrong command line: printed with the subcommand's usage, exit code 2. */
export class UsageError extends Error {}

/** A failure that has its own exit code and a message that says what to do. */
export class CommandError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Parses a subcommand's flags with node:util parseArgs (strict: unknown flags are usage errors).
 * `options` are parseArgs options; every command also takes --help.
 */
export function flags(argv, options, { positionals = false } = {}) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: positionals, strict: true });
  } catch (e) {
    throw new UsageError(e.message);
  }
}

/** The admin token: --token, then $EDDY_TOKEN, then ADMIN_TOKEN in .dev.vars (here, then Eddy's folder). */
export function findToken(given) {
  if (given) return given;
  if (process.env.EDDY_TOKEN) return process.env.EDDY_TOKEN;
  for (const dir of [process.cwd(), PACKAGE_ROOT]) {
    const file = join(dir, ".dev.vars");
    if (!existsSync(file)) continue;
    const m = /^ADMIN_TOKEN\s*=\s*["']?([^"'\n]+)["']?\s*$/m.exec(readFileSync(file, "utf8"));
    if (m) return m[1];
  }
  return undefined;
}

/** Whether a URL's host is this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopback(url) {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Eddy's address on this machine: `npm start -- --https`, or plain `npm start` (see serverOf). */
export const LOCAL_SERVER = "https://127.0.0.1:8787";

/**
 * Where Eddy is, the same way for every command: `--server`, else `$EDDY_SERVER` (`$EDDY` is read
 * too), else Eddy on this machine: https://127.0.0.1:8787, or http://127.0.0.1:8787 when what
 * listens there speaks plain http (`npm start` without `--https`).
 */
export async function serverOf(given) {
  if (given !== undefined) return checkUrl(given, "--server");
  if (process.env.EDDY_SERVER) return checkUrl(process.env.EDDY_SERVER, "$EDDY_SERVER");
  if (process.env.EDDY) return checkUrl(process.env.EDDY, "$EDDY");
  const u = new URL(LOCAL_SERVER);
  return (await speaksTls(u.hostname, Number(u.port))) === false ? LOCAL_SERVER.replace(/^https:/, "http:") : LOCAL_SERVER;
}

/** Whether a server answers a TLS handshake: true, false (it speaks something else), or undefined (nothing answers). */
export function speaksTls(host, port, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, servername: undefined });
    const done = (v) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.once("secureConnect", () => done(true));
    socket.once("error", (e) => done(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT"].includes(e.code) ? undefined : false));
  });
}

/**
 * The kind and name of a target on the command line, the same way for every command:
 * `kind:NAME` (`broker:default`), or kubectl's `kind/NAME`. `kinds` are those the command takes.
 */
export function parseTarget(text, kinds) {
  const m = /^([a-z]+)[:/]([^:/]*)$/i.exec(String(text ?? ""));
  const kind = m?.[1]?.toLowerCase();
  const spelled = kinds.map((k) => `${k}:NAME`).join(", ");
  if (!m || !kinds.includes(kind) || !m[2]) throw new UsageError(`"${text ?? ""}" is not a target: use ${spelled} (or kind/NAME)`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(m[2])) throw new UsageError(`"${m[2]}" is not a resource name: lower-case letters, digits and '-'`);
  return { kind, name: m[2] };
}

/**
 * The target of a command: its first positional argument, or the flag older versions took
 * (`--to`, `--of`), which keeps working. Returns the target text and the positionals left.
 */
export function targetArg(positionals, alias) {
  if (alias !== undefined) return { target: alias, rest: positionals };
  return { target: positionals[0], rest: positionals.slice(1) };
}

/** The version of this package, for `eddy --version`. */
export function version() {
  return JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")).version;
}

export function checkUrl(value, flag) {
  let u;
  try {
    u = new URL(value);
  } catch {
    throw new UsageError(`${flag} must be an absolute http or https URL, got "${value}"`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new UsageError(`${flag} must be an http or https URL, got "${value}"`);
  return u.toString().replace(/\/$/, "");
}

/**
 * One HTTP request. Self-signed certificates are accepted only for loopback servers (what
 * `npm start -- --https` serves) or with `insecure`. Resolves with status, headers and body text;
 * rejects with CommandError(UNREACHABLE) when nothing answers.
 */
export function request(url, { method = "GET", headers = {}, body, insecure = false } = {}) {
  const u = new URL(url);
  const lib = u.protocol === "https:" ? https : http;
  return new Promise((resolvePromise, reject) => {
    // Every body is framed with Content-Length: Node leaves a GET, DELETE or OPTIONS body unframed
    // otherwise, and its bytes become the next request on the connection (docs/known-issues.md).
    const framed = body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) };
    const req = lib.request(u, { method, headers: framed, rejectUnauthorized: !(insecure || isLoopback(url)) }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolvePromise({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (e) => reject(new CommandError(`the answer from ${u.origin} broke off: ${e.message}`, EXIT.UNREACHABLE)));
    });
    req.on("error", (e) => reject(new CommandError(`cannot reach Eddy at ${u.origin}: ${e.message}; is it running (npm start)? --server or $EDDY_SERVER says where it is`, EXIT.UNREACHABLE)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * One call to Eddy's API with the admin token: JSON in, JSON out; a 3xx-5xx answer becomes a
 * CommandError(REFUSED) carrying Eddy's message.
 */
export async function apiCall(url, opts, method = "GET", body) {
  const headers = { authorization: `Bearer ${opts.token}`, ...(body ? { "content-type": "application/json" } : {}) };
  const res = await request(url, { method, headers, body: body ? JSON.stringify(body) : undefined, insecure: opts.insecure });
  let parsed;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    parsed = undefined;
  }
  if (res.status >= 300) throw new CommandError(`${res.status} ${res.statusText}: ${parsed?.message ?? res.body.trim()}`, EXIT.REFUSED);
  return parsed;
}

/** Reads all of standard input. */
export async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks);
}
