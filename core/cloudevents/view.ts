import { type AttrValue, type CloudEvent, dataMediaType, isJsonMediaType } from "./event.js";

/** Marks "the event has no JSON data" for readers of {@link EventView.json}. */
export const NO_JSON: unique symbol = Symbol("no-json");

/**
 * Read-only view of an event for filters and CESQL. The JSON data is parsed at most once per view,
 * so twenty Triggers filtering on `data` share one parse.
 *
 * @example
 * const v = eventView(ev);
 * v.attr("type");            // "com.example.order"
 * v.json();                  // { total: 12 } or NO_JSON
 */
export interface EventView {
  readonly event: CloudEvent;
  /** Attribute or extension by lowercase name; undefined when absent. */
  attr(name: string): AttrValue | undefined;
  /** The parsed data when it is JSON (by content type) and parses; NO_JSON otherwise. */
  json(): unknown;
}

const utf8 = new TextDecoder();

export function eventView(event: CloudEvent): EventView {
  let parsed: unknown = undefined;
  let done = false;
  return {
    event,
    attr: (name) => event.attrs[name],
    json() {
      if (done) return parsed;
      done = true;
      parsed = NO_JSON;
      if (event.data && event.data.length > 0 && isJsonMediaType(dataMediaType(event))) {
        try {
          parsed = JSON.parse(utf8.decode(event.data));
        } catch {
          parsed = NO_JSON;
        }
      }
      return parsed;
    },
  };
}
