import { compact, type CloudEvent } from "../cloudevents/event.js";
import { encodeStructured } from "../cloudevents/encode.js";
import { parseMessage } from "../cloudevents/http.js";

const utf8 = new TextEncoder();
const text = new TextDecoder();
const STRUCTURED = new Headers({ "Content-Type": "application/cloudevents+json" });

/**
 * The event as a JSONata expression sees it: the JSON event format, as Knative's transformer
 * gives it (attributes at the top; JSON data as a value, text as a string, anything else as
 * `data_base64`).
 *
 * @example
 * transformInput(ev); // { specversion: "1.0", id: "1", source: "/s", type: "t", data: { user: { id: 7 } } }
 */
export function transformInput(ev: CloudEvent): Record<string, unknown> {
  return JSON.parse(text.decode(encodeStructured(ev).body ?? undefined)) as Record<string, unknown>;
}

/**
 * The CloudEvent an expression's result stands for, read with Eddy's own codec as a structured
 * event: the result must be an object with `specversion`, `id`, `source` and `type`, and no more
 * than `maxBytes` long as JSON. Throws an Error whose message says what is wrong.
 *
 * @example
 * transformOutput({ specversion: "1.0", id: "1", source: "/s", type: "t", data: { a: 1 } }, 262144);
 */
export function transformOutput(result: unknown, maxBytes: number): CloudEvent {
  if (result === undefined) throw new Error("the expression yielded nothing; it must yield a CloudEvent object with specversion, id, source and type");
  if (typeof result !== "object" || result === null || Array.isArray(result)) {
    throw new Error(`the expression yielded ${Array.isArray(result) ? "an array" : typeof result === "object" ? "null" : `a ${typeof result}`}; it must yield one CloudEvent object with specversion, id, source and type`);
  }
  const json = JSON.stringify(result);
  const bytes = utf8.encode(json);
  if (bytes.length > maxBytes) throw new Error(`the transformed event is ${bytes.length} bytes, over the ${maxBytes}-byte event limit`);
  try {
    return compact(parseMessage(STRUCTURED, bytes).events[0]!);
  } catch (e) {
    throw new Error(`the expression's result is not a valid CloudEvent: ${(e as Error).message}`);
  }
}
