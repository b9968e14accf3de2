import type { Resource } from "../resources/types.js";
import type { CrdInfo } from "./crds.js";
import { fieldSelector, labelSelector, type Matcher } from "./selectors.js";
import { table, type IncludeObject } from "./table.js";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

/** What a list or watch asks for: selectors, and Table output instead of objects. */
export interface ViewOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Table output instead of objects (`Accept: application/json;as=Table;...`). */
  table?: { version: "v1" | "v1beta1"; includeObject: IncludeObject };
}

export interface WatchOptions extends ViewOptions {
  /** Start after this version; absent or "0": start with an ADDED event for every object. */
  resourceVersion?: string;
  timeoutSeconds?: number;
}

/**
 * One watcher's view of a kind: which objects it selects, and how each event is written (one JSON
 * WatchEvent per line). With a selector, an object that stops matching is reported DELETED and one
 * that starts matching ADDED, as Kubernetes does.
 */
export class WatchView {
  private readonly matches: Matcher;
  private readonly selective: boolean;
  /** Names this watcher has been told exist (so that leaving the selection is a DELETED). */
  private readonly known = new Set<string>();
  private headers = true;

  constructor(private readonly crd: CrdInfo, private readonly opts: ViewOptions) {
    const byLabel = labelSelector(opts.labelSelector);
    const byField = fieldSelector(opts.fieldSelector);
    this.matches = (r) => byLabel(r) && byField(r);
    this.selective = Boolean(opts.labelSelector || opts.fieldSelector);
  }

  /** Objects this watcher starts from (their names count as already known). */
  seed(objects: Resource[]): void {
    for (const o of objects) if (this.matches(o)) this.known.add(o.metadata.name);
  }

  selected(objects: Resource[]): Resource[] {
    return objects.filter(this.matches);
  }

  /** The line to send for a change, or undefined when this watcher does not see it. */
  line(type: WatchEventType, obj: Resource, now: number): string | undefined {
    const name = obj.metadata.name;
    const was = this.known.has(name);
    let out: WatchEventType = type;
    if (!this.selective) {
      if (type === "DELETED") this.known.delete(name);
      else this.known.add(name);
    } else if (type === "DELETED") {
      if (!was && !this.matches(obj)) return undefined;
      out = "DELETED";
      this.known.delete(name);
    } else if (this.matches(obj)) {
      out = type === "ADDED" || !was ? "ADDED" : "MODIFIED";
      this.known.add(name);
    } else {
      if (!was) return undefined;
      out = "DELETED";
      this.known.delete(name);
    }
    return JSON.stringify({ type: out, object: this.render(obj, now) }) + "\n";
  }

  private render(obj: Resource, now: number): unknown {
    const t = this.opts.table;
    if (!t) return obj;
    // Like the API server: column definitions on the first event of a watch only.
    const out = table([obj], this.crd, now, { includeObject: t.includeObject, version: t.version, resourceVersion: obj.metadata.resourceVersion, headers: this.headers });
    this.headers = false;
    return out;
  }
}
