import { attrString, dataMediaType } from "../cloudevents/event.js";
import type { EventView } from "../cloudevents/view.js";

/**
 * Attribute names as Knative's webhook accepts them in `filter.attributes` and in
 * `exact`/`prefix`/`suffix` keys.
 */
export const KEY_RE = /^[a-z][a-z0-9]*$/;

/**
 * Why a key is refused, or undefined when it is a valid attribute name.
 *
 * @example
 * keyProblem("Type"); // "\"Type\" is not a valid attribute name: ..."
 */
export function keyProblem(key: string): string | undefined {
  if (key === "") return "an attribute name must not be empty";
  if (!KEY_RE.test(key)) return `${JSON.stringify(key)} is not a valid attribute name: use a lower-case letter followed by lower-case letters and digits`;
  return undefined;
}

/**
 * How the string-matching dialects (legacy attributes, exact, prefix, suffix) read an attribute:
 * its canonical string form (integers in base 10, booleans `true`/`false`, the rest as sent), or
 * undefined when the event lacks it. As in Knative's attribute lookup, `schemaurl` and
 * `dataschema` name the same attribute (0.3 and 1.0 spellings), and `datamediatype` is the
 * content type without parameters. CESQL does not use this: there identifiers are attributes.
 *
 * @example
 * filterAttribute(eventView(ev), "datamediatype"); // "application/json"
 */
export function filterAttribute(view: EventView, name: string): string | undefined {
  let v = view.attr(name);
  if (v === undefined) {
    if (name === "dataschema") v = view.attr("schemaurl");
    else if (name === "schemaurl") v = view.attr("dataschema");
    else if (name === "datamediatype") {
      const mt = dataMediaType(view.event);
      return mt === "" ? undefined : mt;
    }
  }
  return v === undefined ? undefined : attrString(v);
}
