/**
 * The topology of a namespace as a graph, from the objects the API lists: sources → Brokers and
 * Channels → Triggers and Subscriptions → subscribers and dead-letter sinks, Sequences and
 * Parallels with their steps and branches, EventTransforms with their sink (or the reply that goes
 * back to the Broker), RequestReplies into their Broker and back through their reply Triggers.
 * Runtime-free: the view lays it out (graph-view.ts).
 */
import { byKind, type KindInfo } from "./kinds.js";

export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  spec?: any;
  status?: any;
}

export type ReadyState = "ready" | "not-ready" | "unknown";

export interface Readiness {
  state: ReadyState;
  /** "Ready", or the reason (and message) it is not. */
  text: string;
}

/** Ready, or the reason it is not, from the object's `Ready` condition. */
export function readiness(o: KObject): Readiness {
  const conds: any[] = Array.isArray(o.status?.conditions) ? o.status.conditions : [];
  const ready = conds.find((c) => c?.type === "Ready") ?? conds.find((c) => c?.type === "Succeeded");
  if (!ready) return { state: "unknown", text: "no Ready condition yet" };
  if (ready.status === "True") return { state: "ready", text: ready.type === "Succeeded" ? "Succeeded" : "Ready" };
  const why = [ready.reason, ready.message].filter((x) => typeof x === "string" && x).join(": ");
  return { state: ready.status === "False" ? "not-ready" : "unknown", text: why || `Ready ${ready.status}` };
}

export interface GraphNode {
  id: string;
  label: string;
  /** The kind, or what the node stands for ("URI", "step 1"). */
  caption: string;
  state: ReadyState | "none";
  detail: string;
  /** The object page it opens. */
  link?: { plural: string; name: string };
}

export interface GraphEdge {
  from: string;
  to: string;
  label?: string;
  kind: "flow" | "reply" | "dead-letter";
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

interface Destination {
  ref?: { kind?: string; name?: string; apiVersion?: string };
  uri?: string;
}

export function buildGraph(objects: KObject[]): Graph {
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const objectId = (plural: string, name: string) => `${plural}/${name}`;

  for (const o of objects) {
    const k = byKind(o.kind);
    if (!k || k.role === "other") continue;
    const r = readiness(o);
    nodes.set(objectId(k.plural, o.metadata.name), {
      id: objectId(k.plural, o.metadata.name), label: o.metadata.name, caption: o.kind,
      state: r.state, detail: r.text, link: { plural: k.plural, name: o.metadata.name },
    });
  }

  /** The node a destination points at: an object of the namespace (drawn even when missing), or a URI. */
  const target = (d: Destination | undefined): string | undefined => {
    if (!d || typeof d !== "object") return undefined;
    if (d.ref?.kind && d.ref.name) {
      const k: KindInfo | undefined = byKind(d.ref.kind);
      const id = k ? objectId(k.plural, d.ref.name) : `ref:${d.ref.kind}/${d.ref.name}`;
      if (!nodes.has(id)) {
        nodes.set(id, { id, label: d.ref.name, caption: d.ref.kind, state: "not-ready", detail: "not found in this namespace", ...(k ? { link: { plural: k.plural, name: d.ref.name } } : {}) });
      }
      return id;
    }
    if (typeof d.uri === "string" && d.uri) {
      const id = `uri:${d.uri}`;
      if (!nodes.has(id)) nodes.set(id, { id, label: shortUri(d.uri), caption: "URI", state: "none", detail: d.uri });
      return id;
    }
    return undefined;
  };
  const edge = (from: string | undefined, to: string | undefined, kind: GraphEdge["kind"], label?: string) => {
    if (from && to) edges.push({ from, to, kind, ...(label ? { label } : {}) });
  };
  const deadLetters = (from: string, spec: any) => edge(from, target(spec?.delivery?.deadLetterSink), "dead-letter", "dead letters");
  const inner = (id: string, label: string, caption: string, owner: KObject, plural: string) => {
    nodes.set(id, { id, label, caption, state: "none", detail: `${owner.kind} ${owner.metadata.name}`, link: { plural, name: owner.metadata.name } });
    return id;
  };

  for (const o of objects) {
    const k = byKind(o.kind);
    if (!k) continue;
    const self = objectId(k.plural, o.metadata.name);
    const spec = o.spec ?? {};
    switch (o.kind) {
      case "PingSource":
      case "WebhookSource":
        edge(self, target(spec.sink), "flow");
        break;
      case "Broker":
      case "Channel":
      case "InMemoryChannel":
        deadLetters(self, spec);
        break;
      case "Trigger": {
        const brokerNode = typeof spec.broker === "string" ? target({ ref: { kind: "Broker", name: spec.broker } }) : undefined;
        edge(brokerNode, self, "flow", filterLabel(spec));
        const sub = spec.subscriber as Destination | undefined;
        // A RequestReply's own Trigger carries replies back to it.
        if (sub?.ref?.kind === "RequestReply") edge(self, target(sub), "reply", "replies");
        else edge(self, target(sub), "flow");
        // An EventTransform without a sink answers with the transformed event: the Broker publishes it.
        const t = sub?.ref?.kind === "EventTransform" ? objects.find((x) => x.kind === "EventTransform" && x.metadata.name === sub.ref!.name) : undefined;
        if (t && !t.spec?.sink) edge(target(sub), brokerNode, "reply", "transformed");
        deadLetters(self, spec);
        break;
      }
      case "EventTransform":
        edge(self, target(spec.sink), "flow", spec.reply?.discard ? "reply discarded" : spec.reply?.jsonata ? "reply transformed" : undefined);
        break;
      case "RequestReply":
        edge(self, target({ ref: { kind: "Broker", name: spec.brokerRef?.name } }), "flow", "requests");
        break;
      case "Subscription":
        // spec.channel is a reference itself (apiVersion, kind, name), not a Destination.
        edge(target({ ref: spec.channel }), self, "flow");
        edge(self, target(spec.subscriber), "flow");
        edge(self, target(spec.reply), "reply", "reply");
        deadLetters(self, spec);
        break;
      case "Sequence": {
        const steps: any[] = Array.isArray(spec.steps) ? spec.steps : [];
        let prev = self;
        steps.forEach((step, i) => {
          const id = inner(`${self}#step-${i}`, `step ${i + 1}`, "Sequence step", o, k.plural);
          edge(prev, id, i === 0 ? "flow" : "reply", i === 0 ? undefined : "reply");
          edge(id, target(step), "flow");
          deadLetters(id, step);
          prev = id;
        });
        edge(prev, target(spec.reply), "reply", "reply");
        break;
      }
      case "Parallel": {
        const branches: any[] = Array.isArray(spec.branches) ? spec.branches : [];
        branches.forEach((b, i) => {
          const id = inner(`${self}#branch-${i}`, `branch ${i + 1}`, "Parallel branch", o, k.plural);
          edge(self, id, "flow");
          if (b?.filter) edge(id, target(b.filter), "flow", "filter");
          edge(id, target(b?.subscriber), "flow");
          edge(id, target(b?.reply ?? spec.reply), "reply", "reply");
          deadLetters(id, b);
        });
        break;
      }
    }
  }
  return { nodes: [...nodes.values()], edges };
}

function filterLabel(spec: any): string | undefined {
  const attrs = spec.filter?.attributes;
  if (attrs && typeof attrs === "object") {
    const parts = Object.entries(attrs).map(([k, v]) => `${k}=${String(v)}`);
    if (parts.length) return parts.join(", ");
  }
  if (Array.isArray(spec.filters) && spec.filters.length) return "filters";
  return undefined;
}

/** Host and path of a URI, enough to tell subscribers apart at a glance. */
export function shortUri(uri: string): string {
  try {
    const u = new URL(uri);
    return `${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return uri;
  }
}
