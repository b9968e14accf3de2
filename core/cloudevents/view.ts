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
  return new View(event);
}

// A class rather than closures: one view per event on the ingress path, so no functions are made per event.
class View implements EventView {
  private parsed: unknown = undefined;
  private done = false;

  constructor(readonly event: CloudEvent) {}

  attr(name: string): AttrValue | undefined {
    return this.event.attrs[name];
  }

  json(): unknown {
    if (this.done) return this.parsed;
    this.done = true;
    this.parsed = NO_JSON;
    const event = this.event;
    if (event.data && event.data.length > 0 && isJsonMediaType(dataMediaType(event))) {
      try {
        this.parsed = JSON.parse(utf8.decode(event.data));
      } catch {
        this.parsed = NO_JSON;
      }
    }
    return this.parsed;
  }
}
