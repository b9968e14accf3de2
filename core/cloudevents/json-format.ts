import { fromBase64 } from "../base64.js";
import { type AttrValue, type CloudEvent, isJsonMediaType } from "./event.js";
import { CloudEventError } from "./errors.js";
import { members, type Span } from "./json-scan.js";
import { NAME_RE, validateData } from "./validate.js";

const utf8 = new TextEncoder();
const bad = (msg: string) => new CloudEventError(400, msg);

/** Media type without parameters, lower-cased; "" for none. */
export function mediaTypeOf(contentType: string | null | undefined): string {
  if (!contentType) return "";
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

function decodeBase64(text: string, what: string): Uint8Array {
  try {
    return fromBase64(text); // atob: standard alphabet, ASCII whitespace ignored, padding optional
  } catch {
    throw bad(`${what} is not valid base64: use the standard alphabet A-Z a-z 0-9 + / with = padding (RFC 4648)`);
  }
}

/**
 * Reads one event in the JSON event format from its JSON.parse result `obj`, whose text starts at
 * byte `at` of `body`. Attributes keep their JSON types; null means unset. `data` becomes bytes:
 * the raw JSON text of the member for JSON content types (sliced from `body`, never re-serialised),
 * the UTF-8 of the string for other types, the decoded `data_base64` (or, for 0.3, the decoded
 * `data` under `datacontentencoding: base64`). Attribute values are checked by the caller.
 *
 * @example
 * const body = new TextEncoder().encode('{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"a": 1.50}}');
 * eventFromJson(JSON.parse(new TextDecoder().decode(body)), body, 0).data; // the bytes of {"a": 1.50}
 */
export function eventFromJson(obj: Record<string, unknown>, body: Uint8Array, at: number): CloudEvent {
  const attrs: Record<string, AttrValue> = {};
  let integers: string[] | undefined;
  for (const key in obj) {
    if (key === "data" || key === "data_base64") continue;
    if (!NAME_RE.test(key)) {
      throw bad(`attribute name ${JSON.stringify(key)} is invalid: CloudEvents attribute names use only lower-case letters a-z and digits 0-9`);
    }
    const v = obj[key];
    if (v === null) continue; // unset
    if (typeof v === "object") {
      throw bad(`attribute "${key}" is ${Array.isArray(v) ? "an array" : "an object"}: attribute values must be strings, integers or booleans (extensions are flat; nest structure in data)`);
    }
    if (typeof v === "number" && Number.isInteger(v)) (integers ??= []).push(key);
    attrs[key] = (v === 0 ? 0 : v) as AttrValue; // -0 is written "0" everywhere else
  }

  const ev: CloudEvent = { attrs };
  const b64 = obj.data_base64 ?? undefined;
  const ct = typeof attrs.datacontenttype === "string" ? mediaTypeOf(attrs.datacontenttype) : "";
  const sv = attrs.specversion;
  const enc = attrs.datacontentencoding;
  const encoded = sv === "0.3" && typeof enc === "string" && enc.toLowerCase() === "base64";
  const jsonType = !encoded && (ct === "" || isJsonMediaType(ct));
  let data = obj.data;
  // `"data": null` is a JSON null payload only where data is JSON; elsewhere null means unset.
  if (data === null && (!jsonType || b64 !== undefined)) data = undefined;
  if (b64 !== undefined) {
    if (sv === "0.3") throw bad('"data_base64" is CloudEvents 1.0: a 0.3 event carries bytes as a base64 string in "data" with "datacontentencoding": "base64"');
    if (data !== undefined) throw bad('the event has both "data" and "data_base64": send exactly one of them');
  }
  // JSON data is kept as raw text, which needs its byte range; integers need theirs to refuse 1.0 or 1e3.
  const jsonData = data !== undefined && jsonType;
  let dataSpan: Span | undefined;
  if (jsonData || integers) {
    for (const m of members(body, at)) {
      if (m.key === "data") dataSpan = m; // the last duplicate wins, as in JSON.parse
      else if (integers?.includes(m.key) && !isPlainInteger(body, m)) {
        throw bad(`attribute "${m.key}" must be an integer written without fraction or exponent, got ${new TextDecoder().decode(body.subarray(m.start, m.end))}`);
      }
    }
  }

  if (b64 !== undefined) {
    if (typeof b64 !== "string") throw bad('"data_base64" must be a base64 string');
    ev.data = decodeBase64(b64, '"data_base64"');
  } else if (data === undefined) {
    return ev;
  } else if (encoded) {
    if (typeof data !== "string") throw bad('with "datacontentencoding": "base64", "data" must be a base64 string');
    ev.data = decodeBase64(data, '"data" (datacontentencoding base64)');
  } else if (jsonData) {
    ev.data = body.subarray(dataSpan!.start, dataSpan!.end);
    if (ct === "") ev.impliedJson = true;
    return ev; // JSON.parse already vouched for it
  } else if (typeof data === "string") {
    ev.data = utf8.encode(data);
    return ev;
  } else {
    throw bad(`"data" must be a string when datacontenttype is ${ct || "absent"}: send text as a JSON string, bytes in "data_base64", or declare a JSON content type`);
  }
  validateData(ev); // decoded bytes under a JSON content type must be JSON, as a binary body must
  return ev;
}

/** Whether the raw number in `s` has no fraction and no exponent. */
function isPlainInteger(b: Uint8Array, s: Span): boolean {
  for (let i = s.start; i < s.end; i++) {
    const c = b[i];
    if (c === 0x2e || c === 0x65 || c === 0x45) return false;
  }
  return true;
}
