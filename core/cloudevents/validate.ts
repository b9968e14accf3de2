import { type CloudEvent, REQUIRED_ATTRIBUTES, SPEC_VERSIONS } from "./event.js";
import { CloudEventError } from "./errors.js";

export const NAME_RE = /^[a-z0-9]+$/;
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const MEDIA_TYPE_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*(;.*)?$/;
const ABSOLUTE_URI_RE = /^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]*$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const bad = (msg: string) => new CloudEventError(400, msg);

/** True when `s` is an RFC 3339 timestamp (the CloudEvents `time` format). */
export function isRfc3339(s: string): boolean {
  return RFC3339_RE.test(s) && !Number.isNaN(Date.parse(s.replace(/[tz]/g, (c) => c.toUpperCase())));
}

/**
 * Checks an event against the CloudEvents 1.0 / 0.3 rules a receiver must enforce: required
 * attributes present and non-empty, a known specversion, valid attribute names and value types,
 * no control characters, RFC 3339 `time`, absolute `dataschema`, non-empty `subject` and a media
 * type in `datacontenttype`. Throws a CloudEventError (400) naming the attribute and the fix.
 *
 * @example
 * validateEvent({ attrs: { specversion: "1.0", id: "1", source: "/s", type: "t", time: "now" } });
 * // throws: attribute "time" must be an RFC 3339 timestamp such as 2026-01-02T15:04:05Z, got "now"
 */
export function validateEvent(ev: CloudEvent): void {
  const a = ev.attrs;
  const sv = a.specversion;
  if (sv === undefined) {
    throw bad('missing required attribute "specversion": a CloudEvent needs specversion, id, source and type (binary mode: ce-specversion, ce-id, ce-source, ce-type headers)');
  }
  if (typeof sv !== "string" || !(SPEC_VERSIONS as readonly string[]).includes(sv)) {
    throw bad(`unsupported specversion ${JSON.stringify(sv)}: Eddy accepts CloudEvents 1.0 and 0.3`);
  }
  for (const name of REQUIRED_ATTRIBUTES) {
    const v = a[name];
    if (v === undefined) throw bad(`missing required attribute "${name}": send it as the ce-${name} header (binary mode) or the "${name}" member (structured mode)`);
    if (typeof v !== "string" || v.trim() === "") throw bad(`attribute "${name}" must be a non-empty string, got ${JSON.stringify(v)}`);
  }
  for (const [name, v] of Object.entries(a)) {
    if (!NAME_RE.test(name)) {
      throw bad(`attribute name "${name}" is invalid: CloudEvents attribute names use only lower-case letters a-z and digits 0-9`);
    }
    if (typeof v === "number") {
      if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) throw bad(`attribute "${name}" must be a string, boolean or 32-bit integer, got ${v}`);
    } else if (typeof v === "string") {
      if (CONTROL_RE.test(v)) throw bad(`attribute "${name}" contains a control character; remove it or percent-encode binary content elsewhere`);
      if (LONE_SURROGATE_RE.test(v)) throw bad(`attribute "${name}" contains an unpaired UTF-16 surrogate`);
    } else if (typeof v !== "boolean") {
      throw bad(`attribute "${name}" must be a string, boolean or integer, not ${v === null ? "null" : typeof v}`);
    }
  }
  const str = (name: string) => {
    const v = a[name];
    if (v !== undefined && typeof v !== "string") throw bad(`attribute "${name}" must be a string, got ${JSON.stringify(v)}`);
    return v as string | undefined;
  };
  const subject = str("subject");
  if (subject !== undefined && subject === "") throw bad('attribute "subject" is empty: omit it or give it a value');
  const ct = str("datacontenttype");
  if (ct !== undefined && !MEDIA_TYPE_RE.test(ct)) {
    throw bad(`datacontenttype ${JSON.stringify(ct)} is not a media type such as application/json or text/plain`);
  }
  const time = str("time");
  if (time !== undefined && !isRfc3339(time)) {
    throw bad(`attribute "time" must be an RFC 3339 timestamp such as 2026-01-02T15:04:05Z, got ${JSON.stringify(time)}`);
  }
  if (sv === "1.0") {
    const ds = str("dataschema");
    if (ds !== undefined && !ABSOLUTE_URI_RE.test(ds)) throw bad(`attribute "dataschema" must be an absolute URI, got ${JSON.stringify(ds)}`);
  } else {
    const su = str("schemaurl");
    if (su !== undefined && su === "") throw bad('attribute "schemaurl" is empty: omit it or give it a value');
  }
}
