import type { PlanKey, RoutePlan, Target } from "./resources/plan.js";

/**
 * Where every addressable lives: its ingress URL prefix, the Durable Object binding behind it and
 * the key that object is addressed by, including Sequence steps and Parallel branches (internal
 * channels with sub-paths). Ingress routes and in-process hops are derived from this table; nothing
 * else spells a key out.
 *
 * @example
 * locate("/sequences/demo/seq/steps/2"); // { binding: "CHANNEL", name: "Sequence/demo/seq/2" }
 */
export interface Addressable {
  /** First path segment of the ingress URL. */
  prefix: string;
  kind: string;
  binding: PlanKey["binding"];
  /** Key of the object behind `/{prefix}/{ns}/{name}`. */
  key(ns: string, name: string): string;
  /** Addresses under it, `/{prefix}/{ns}/{name}/{path}/{i}`, each taking events (`publish`). */
  sub?: { path: string; key(ns: string, name: string, i: number): string };
  /** What the address does with a POST (see Serving). */
  serves: Serving;
}

/**
 * What an address does with what is posted to it: `publish` stores CloudEvents and answers 202;
 * `transform` answers with the transformed event (an EventTransform); `request` holds the request
 * open until its reply comes back through a Broker (a RequestReply, whose shards are chosen per
 * request, so it has no single object); `webhook` takes a provider's payload.
 */
export type Serving = "publish" | "transform" | "request" | "webhook";

/** Keys of EventTransform objects start with this; a delivery to one is a `transform` call, not a publish. */
export const TRANSFORM_KEY_PREFIX = "EventTransform/";

export const ADDRESSABLE_TABLE: readonly Addressable[] = [
  { prefix: "brokers", kind: "Broker", binding: "BROKER", key: (ns, n) => `${ns}/${n}`, serves: "publish" },
  { prefix: "channels", kind: "Channel", binding: "CHANNEL", key: (ns, n) => `Channel/${ns}/${n}`, serves: "publish" },
  {
    prefix: "inmemorychannels", kind: "InMemoryChannel", binding: "CHANNEL",
    key: (ns, n) => `InMemoryChannel/${ns}/${n}`, serves: "publish",
  },
  {
    // Step 0 is the Sequence's own address; step i > 0 sits under /steps/i.
    prefix: "sequences", kind: "Sequence", binding: "CHANNEL", key: (ns, n) => `Sequence/${ns}/${n}/0`,
    sub: { path: "steps", key: (ns, n, i) => `Sequence/${ns}/${n}/${i}` }, serves: "publish",
  },
  {
    prefix: "parallels", kind: "Parallel", binding: "CHANNEL", key: (ns, n) => `Parallel/${ns}/${n}`,
    sub: { path: "branches", key: (ns, n, i) => `Parallel/${ns}/${n}/${i}` }, serves: "publish",
  },
  { prefix: "webhooks", kind: "WebhookSource", binding: "SOURCE", key: (ns, n) => `WebhookSource/${ns}/${n}`, serves: "webhook" },
  // Served by the Source object class: one object per EventTransform, which evaluates its expression.
  { prefix: "eventtransforms", kind: "EventTransform", binding: "SOURCE", key: (ns, n) => `${TRANSFORM_KEY_PREFIX}${ns}/${n}`, serves: "transform" },
  {
    // Requests go to a shard chosen per request; replies come back to their shard under /replies/i.
    prefix: "requestreplies", kind: "RequestReply", binding: "SOURCE", key: (ns, n) => `RequestReply/${ns}/${n}/0`,
    sub: { path: "replies", key: (ns, n, i) => `RequestReply/${ns}/${n}/${i}` }, serves: "request",
  },
];

const byPrefix = new Map(ADDRESSABLE_TABLE.map((a) => [a.prefix, a]));

/** The addressable served under a path prefix (`brokers`, `sequences`, ...). */
export function addressable(prefix: string): Addressable | undefined {
  return byPrefix.get(prefix);
}

/**
 * The object that takes CloudEvents posted to `pathname`, or undefined when the path is not exactly
 * an address of this system (a trailing slash is allowed, as at ingress), or is one with no single
 * object behind it (a RequestReply's request address: the Worker picks a shard per request).
 */
export function locate(pathname: string): PlanKey | undefined {
  const parts = pathname.replace(/\/$/, "").split("/").slice(1).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return "\u0000";
    }
  });
  const a = byPrefix.get(parts[0] ?? "");
  if (!a || a.serves === "webhook") return undefined;
  const [, ns, name, sub, i] = parts;
  if (!ns || !name) return undefined;
  if (parts.length === 3) return a.serves === "request" ? undefined : { binding: a.binding, name: a.key(ns, name) };
  if (parts.length === 5 && a.sub && sub === a.sub.path && /^[0-9]+$/.test(i!)) {
    return { binding: a.binding, name: a.sub.key(ns, name, Number(i)) };
  }
  return undefined;
}

/** Internal targets name the object behind their URL, so deliveries to them are RPCs (plans stored before that carry only the URL). */
export function withObjects(r: RoutePlan): RoutePlan {
  const fill = (t: Target | undefined): Target | undefined => {
    if (!t?.internal || t.object) return t;
    const object = locate(new URL(t.url).pathname);
    return object ? { ...t, object } : t;
  };
  const out: RoutePlan = { ...r, subscriber: fill(r.subscriber)! };
  if (r.reply) out.reply = fill(r.reply)!;
  if (r.deadLetter) out.deadLetter = fill(r.deadLetter)!;
  return out;
}

/** What a delivery to `object` calls there: `transform` for an EventTransform, else `publish`. */
export function servingOf(object: PlanKey): "publish" | "transform" {
  return object.name.startsWith(TRANSFORM_KEY_PREFIX) ? "transform" : "publish";
}

/** The RequestReply whose request address `pathname` is (`/requestreplies/{ns}/{name}`), if it is one. */
export function requestAddress(pathname: string): { ns: string; name: string } | undefined {
  const m = /^\/requestreplies\/([^/]+)\/([^/]+?)\/?$/.exec(pathname);
  if (!m) return undefined;
  try {
    return { ns: decodeURIComponent(m[1]!), name: decodeURIComponent(m[2]!) };
  } catch {
    return undefined;
  }
}
