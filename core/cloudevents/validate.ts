import { type AttrValue, type CloudEvent, dataMediaType, isJsonMediaType, REQUIRED_ATTRIBUTES } from "./event.js";
import { CloudEventError } from "./errors.js";
import { jsonTooDeepAt, MAX_JSON_DEPTH } from "../nesting.js";

/** Attribute names: lower-case ASCII letters and digits. Longer than 20 and digit-first are legal. */
export const NAME_RE = /^[a-z0-9]+$/;
// C0/C1 controls, lone surrogates and noncharacters are all forbidden in CloudEvents Strings.
const BAD_CHAR_RE = /[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u;
// Fixed-width fields and one optional fraction: no nested quantifiers, so no backtracking trap.
const RFC3339_RE = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:[Zz]|[+-](\d\d):(\d\d))$/;
const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const WS_RE = /\s/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
/** Context attributes whose type is String (or URI, Timestamp... all strings on the wire). */
const STRING_ATTRS = new Set(["id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "schemaurl", "datacontentencoding"]);

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const bad = (msg: string) => new CloudEventError(400, msg);
const show = (v: unknown) => JSON.stringify(v);

/** True when `s` is an RFC 3339 date-time (upper- or lower-case T and Z, leap second 60 allowed). */
export function isRfc3339(s: string): boolean {
  const m = RFC3339_RE.exec(s);
  if (!m) return false;
  const [, y, mo, d, h, mi, sec, oh, om] = m.map(Number) as number[];
  const days = [31, y! % 4 === 0 && (y! % 100 !== 0 || y! % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > days[mo! - 1]! || h! > 23 || mi! > 59 || sec! > 60) return false;
  return m[7] === undefined || (oh! <= 23 && om! <= 59);
}

const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;
const token = (s: string, i: number) => {
  while (i < s.length && TCHAR[s.charCodeAt(i)] === 1) i++;
  return i;
};
const ows = (s: string, i: number) => {
  while (s[i] === " " || s[i] === "\t") i++;
  return i;
};

/**
 * True when `s` is an RFC 2046 media type: `type/subtype` then `; name=value` parameters (token or
 * quoted-string values, whitespace around the separators and a trailing `;` tolerated, as Go's
 * mime.ParseMediaType does for Knative).
 *
 * @example
 * isMediaType("text/plain; charset=utf-8"); // true
 * isMediaType("json");                      // false
 */
export function isMediaType(s: string): boolean {
  let i = token(s, ows(s, 0));
  if (i === ows(s, 0) || s[i] !== "/") return false;
  const sub = i + 1;
  i = token(s, sub);
  if (i === sub) return false;
  for (;;) {
    i = ows(s, i);
    if (i === s.length) return true;
    if (s[i] !== ";") return false;
    i = ows(s, i + 1);
    if (i === s.length) return true;
    const name = i;
    i = token(s, name);
    if (i === name) return false;
    i = ows(s, i);
    if (s[i] !== "=") return false;
    i = ows(s, i + 1);
    if (s[i] === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === "\\") i++;
      if (i >= s.length) return false;
      i++;
    } else {
      const v = i;
      i = token(s, v);
      if (i === v) return false;
    }
  }
}

function describeChar(s: string): string {
  const c = s.codePointAt(s.search(BAD_CHAR_RE))!;
  const hex = "U+" + c.toString(16).toUpperCase().padStart(4, "0");
  if (c <= 0x9f) return `a control character (${hex})`;
  if (c >= 0xd800 && c <= 0xdfff) return `an unpaired surrogate (${hex})`;
  return `a Unicode noncharacter (${hex})`;
}

/** Checks one attribute value against the CloudEvents type system. */
function checkValue(name: string, v: AttrValue): void {
  if (typeof v === "string") {
    if (BAD_CHAR_RE.test(v)) {
      throw bad(`attribute "${name}" contains ${describeChar(v)}: CloudEvents strings may not; put such content in the event data`);
    }
  } else if (typeof v === "number") {
    if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) {
      throw bad(`attribute "${name}" is ${v}: CloudEvents integers are whole numbers from -2147483648 to 2147483647; send other numbers as strings`);
    }
  } else if (typeof v !== "boolean") {
    const kind = v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : typeof v;
    throw bad(`attribute "${name}" is ${kind}: attribute values must be strings, integers or booleans (extensions are flat; nest structure in data)`);
  }
}

/**
 * Checks the context attributes against the CloudEvents 1.0 / 0.3 rules: `specversion` 1.0 or 0.3;
 * `id`, `source`, `type` non-empty strings; names `[a-z0-9]+`; values strings (no control
 * characters, unpaired surrogates or noncharacters), int32 integers or booleans; RFC 3339 `time`;
 * `subject` and `datacontenttype` non-empty, the latter a media type; 1.0 `dataschema` an absolute
 * URI; 0.3 `schemaurl` a non-empty URI-reference and `datacontentencoding` "base64".
 * Throws CloudEventError (400) naming the attribute and what to send instead.
 *
 * @example
 * validateAttributes({ specversion: "1.0", id: "1", source: "/s", type: "t", time: "now" });
 * // throws: attribute "time" must be an RFC 3339 timestamp such as 2026-01-02T15:04:05Z, got "now"
 */
export function validateAttributes(a: Record<string, AttrValue>): void {
  const sv = a.specversion;
  if (sv === undefined || sv === "") {
    throw bad('missing required attribute "specversion": a CloudEvent needs specversion, id, source and type (binary mode: the ce-specversion, ce-id, ce-source and ce-type headers)');
  }
  if (sv !== "1.0" && sv !== "0.3") {
    const hint = typeof sv === "string" ? "" : ` (write it as the string "1.0")`;
    throw bad(`unsupported specversion ${show(sv)}: Eddy accepts CloudEvents "1.0" and "0.3"${hint}`);
  }
  for (const name of REQUIRED_ATTRIBUTES) {
    const v = a[name];
    if (v === undefined) {
      throw bad(`missing required attribute "${name}": send it as the ce-${name} header (binary mode) or the "${name}" member (structured mode)`);
    }
    if (typeof v !== "string" || v.trim() === "") throw bad(`attribute "${name}" must be a non-empty string, got ${show(v)}`);
  }
  for (const name in a) {
    const v = a[name]!;
    if (!NAME_RE.test(name)) {
      throw bad(`attribute name ${show(name)} is invalid: CloudEvents attribute names use only lower-case letters a-z and digits 0-9`);
    }
    if (STRING_ATTRS.has(name) && typeof v !== "string") throw bad(`attribute "${name}" must be a string, got ${show(v)}`);
    checkValue(name, v);
  }
  const { subject, datacontenttype: ct, time } = a as Record<string, string | undefined>;
  if (subject !== undefined && subject.trim() === "") throw bad('attribute "subject" is empty: omit it or give it a value');
  if (ct !== undefined && !isMediaType(ct)) {
    throw bad(`attribute "datacontenttype" is ${show(ct)}, which is not a media type: use type/subtype such as application/json or text/plain; charset=utf-8`);
  }
  if (time !== undefined && !isRfc3339(time)) {
    throw bad(`attribute "time" must be an RFC 3339 timestamp such as 2026-01-02T15:04:05Z, got ${show(time)}`);
  }
  if (sv === "1.0") {
    const ds = a.dataschema as string | undefined;
    if (ds !== undefined && (!SCHEME_RE.test(ds) || WS_RE.test(ds))) {
      throw bad(`attribute "dataschema" must be an absolute URI such as https://example.com/schema.json, got ${show(ds)}`);
    }
  } else {
    const su = a.schemaurl as string | undefined;
    if (su !== undefined && (su === "" || WS_RE.test(su))) throw bad(`attribute "schemaurl" must be a non-empty URI-reference without spaces, got ${show(su)}`);
    const enc = a.datacontentencoding as string | undefined;
    if (enc !== undefined && enc.toLowerCase() !== "base64") {
      throw bad(`attribute "datacontentencoding" is ${show(enc)}: CloudEvents 0.3 defines only "base64"; omit it unless data is a base64 string`);
    }
  }
}

/**
 * Fails when the data cannot be what `datacontenttype` says: JSON media types (and the implied
 * application/json) must hold UTF-8 JSON text. Other types are opaque bytes.
 */
export function validateData(ev: CloudEvent): void {
  if (!ev.data || ev.data.length === 0) return;
  const mt = dataMediaType(ev);
  if (!isJsonMediaType(mt)) return;
  // Filters parse JSON data, and a stored event is re-read by code that may recurse per level.
  const deep = jsonTooDeepAt(ev.data, MAX_JSON_DEPTH);
  if (deep >= 0) throw bad(tooDeepMessage("the event data (in binary mode, the request body)", MAX_JSON_DEPTH, deep, 0));
  try {
    JSON.parse(strictUtf8.decode(ev.data));
  } catch (e) {
    throw bad(`the event data (in binary mode, the request body) is not valid JSON although its content type is ${mt} (${(e as Error).message}): send JSON, or declare the real content type`);
  }
}

/**
 * The message for JSON nested deeper than allowed: `what` nests deeper than `limit` levels at byte
 * `at`, where `wrappers` levels of `limit` are the event format's own (1 for a structured event, 2
 * for a batch), so the limit on data reads the same in every mode.
 */
export function tooDeepMessage(what: string, limit: number, at: number, wrappers: number): string {
  const own = wrappers === 0 ? "" : ` (the event format takes ${wrappers}, so data may nest ${limit - wrappers})`;
  return `${what} nests JSON deeper than ${limit} levels${own}: level ${limit + 1} opens at byte ${at}; flatten the data, or send it with a content type that is not JSON`;
}

/**
 * Checks a whole event, attributes and data, against the rules a receiver enforces (see
 * validateAttributes and validateData). parseMessage already applies them to what it returns;
 * call this for events Eddy builds itself, such as those of sources.
 *
 * @example
 * validateEvent({ attrs: { specversion: "1.0", id: "1", source: "/s", type: "t", datacontenttype: "application/json" },
 *                 data: new TextEncoder().encode("{oops") }); // throws: the data is not valid JSON ...
 */
export function validateEvent(ev: CloudEvent): void {
  validateAttributes(ev.attrs);
  validateData(ev);
}
