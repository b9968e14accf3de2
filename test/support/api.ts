// A small client for Eddy's control-plane API, as a user would call it with curl.
import type { Platform } from "./platform.js";

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

const PLURALS: Record<string, string> = {
  Broker: "brokers", Trigger: "triggers", Channel: "channels", InMemoryChannel: "inmemorychannels",
  Subscription: "subscriptions", Sequence: "sequences", Parallel: "parallels",
  PingSource: "pingsources", WebhookSource: "webhooksources", EventType: "eventtypes", EventPolicy: "eventpolicies",
  EventTransform: "eventtransforms", RequestReply: "requestreplies",
};

export function pathFor(apiVersion: string, kind: string, ns: string, name?: string): string {
  const plural = PLURALS[kind];
  if (!plural) throw new Error(`test client does not know kind ${kind}`);
  return `/apis/${apiVersion}/namespaces/${ns}/${plural}${name ? `/${name}` : ""}`;
}

export class Api {
  constructor(readonly p: Platform) {}

  async call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const h: Record<string, string> = { Authorization: `Bearer ${this.p.token}`, ...headers };
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === "string" ? body : JSON.stringify(body);
      h["Content-Type"] ??= typeof body === "string" ? "application/yaml" : "application/json";
    }
    const r = await fetch(this.p.url + path, { method, headers: h, ...(payload !== undefined ? { body: payload } : {}) });
    const text = await r.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // plain text answer
    }
    return { status: r.status, body: parsed, headers: r.headers };
  }

  /** PUT (create or replace) a manifest; throws unless 200/201. */
  async apply<T = any>(manifest: { apiVersion: string; kind: string; metadata: { name: string; namespace: string; [field: string]: unknown }; [field: string]: unknown }): Promise<T> {
    const r = await this.call<T>("PUT", pathFor(manifest.apiVersion, manifest.kind, manifest.metadata.namespace, manifest.metadata.name), manifest);
    if (r.status !== 200 && r.status !== 201) throw new Error(`apply ${manifest.kind}/${manifest.metadata.name}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  get<T = any>(apiVersion: string, kind: string, ns: string, name: string): Promise<ApiResponse<T>> {
    return this.call<T>("GET", pathFor(apiVersion, kind, ns, name));
  }

  del(apiVersion: string, kind: string, ns: string, name: string): Promise<ApiResponse> {
    return this.call("DELETE", pathFor(apiVersion, kind, ns, name));
  }

  /** Polls until the object's Ready condition is True; returns the object. */
  async waitReady<T = any>(apiVersion: string, kind: string, ns: string, name: string, timeoutMs = 10_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    let last: any;
    while (Date.now() < until) {
      last = (await this.get(apiVersion, kind, ns, name)).body;
      if (last?.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True")) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${kind}/${name} not Ready: ${JSON.stringify(last?.status)}`);
  }
}

/** A unique namespace per test so tests sharing one platform never see each other's objects. */
export function uniqueNs(prefix = "t"): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

export function broker(ns: string, name: string, spec: Record<string, unknown> = {}, annotations?: Record<string, string>) {
  return { apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) }, spec };
}

export function trigger(ns: string, name: string, brokerName: string, subscriberUri: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: "eventing.knative.dev/v1",
    kind: "Trigger",
    metadata: { name, namespace: ns } as { name: string; namespace: string; annotations?: Record<string, string> },
    spec: { broker: brokerName, subscriber: { uri: subscriberUri }, ...extra },
  };
}

const MESSAGING = "messaging.knative.dev/v1";

export function imc(ns: string, name: string, spec: Record<string, unknown> = {}) {
  return { apiVersion: MESSAGING, kind: "InMemoryChannel", metadata: { name, namespace: ns } as { name: string; namespace: string; annotations?: Record<string, string> }, spec };
}

export function channel(ns: string, name: string, spec: Record<string, unknown> = {}) {
  return { apiVersion: MESSAGING, kind: "Channel", metadata: { name, namespace: ns }, spec };
}

export function subscription(ns: string, name: string, channelName: string, spec: Record<string, unknown>, channelKind = "InMemoryChannel") {
  return {
    apiVersion: MESSAGING, kind: "Subscription", metadata: { name, namespace: ns },
    spec: { channel: { apiVersion: MESSAGING, kind: channelKind, name: channelName }, ...spec },
  };
}
