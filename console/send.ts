/**
 * Sending an event from the console: the fields of `eddy send`, turned into a binary-mode
 * CloudEvents request (the `ce-` headers and the data as the body).
 */
export interface SendFields {
  type: string;
  source: string;
  /** Generated when empty. */
  id: string;
  subject: string;
  /** One `name=value` per line. */
  extensions: string;
  data: string;
  contentType: string;
}

export interface SendRequest {
  id: string;
  headers: Record<string, string>;
  body: string;
}

export class SendInvalid extends Error {
  constructor(
    readonly field: keyof SendFields,
    message: string,
  ) {
    super(message);
  }
}

// Attributes with fields of their own, or that the HTTP binding carries otherwise: not extensions.
const RESERVED = new Set(["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "data", "data_base64"]);

/** The HTTP binding's header encoding: space, `"`, `%` and anything outside printable ASCII as %XX of its UTF-8. */
export function encodeHeaderValue(v: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(v)) {
    out += b > 0x20 && b < 0x7f && b !== 0x22 && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export function parseExtensions(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf("=");
    const name = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (eq < 0) throw new SendInvalid("extensions", `line ${i + 1}: write name=value`);
    // The same rule as `eddy send --ext`: what the CloudEvents spec says names should be.
    if (!/^[a-z0-9]{1,20}$/.test(name)) throw new SendInvalid("extensions", `line ${i + 1}: "${name}" is not an extension name (up to 20 lower-case letters and digits)`);
    if (RESERVED.has(name)) throw new SendInvalid("extensions", `line ${i + 1}: "${name}" is not an extension; use its own field`);
    out.push([name, line.slice(eq + 1).trim()]);
  }
  return out;
}

export function buildSend(f: SendFields, newId: () => string): SendRequest {
  if (!f.type.trim()) throw new SendInvalid("type", "type is required");
  if (!f.source.trim()) throw new SendInvalid("source", "source is required");
  const id = f.id.trim() || newId();
  const headers: Record<string, string> = {
    "ce-specversion": "1.0",
    "ce-id": encodeHeaderValue(id),
    "ce-source": encodeHeaderValue(f.source.trim()),
    "ce-type": encodeHeaderValue(f.type.trim()),
    "ce-time": new Date().toISOString(),
  };
  if (f.subject.trim()) headers["ce-subject"] = encodeHeaderValue(f.subject.trim());
  for (const [k, v] of parseExtensions(f.extensions)) headers[`ce-${k}`] = encodeHeaderValue(v);
  if (f.data !== "") {
    // As `eddy send`: application/json when the data is JSON, else text/plain, unless given.
    const ct = f.contentType.trim() || (isJson(f.data) ? "application/json" : "text/plain");
    if (/json/i.test(ct)) {
      try {
        JSON.parse(f.data);
      } catch (e) {
        throw new SendInvalid("data", `data is not JSON, as ${ct} says: ${(e as Error).message}`);
      }
    }
    headers["Content-Type"] = ct;
  }
  return { id, headers, body: f.data };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where to POST: the address's path on the console's own origin. The address may name a public
 * host (PUBLIC_URL) that this page cannot call without CORS; the same Worker serves both.
 */
export function sendPath(addressUrl: string): string {
  const u = new URL(addressUrl);
  return u.pathname + u.search;
}
