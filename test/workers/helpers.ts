// Helpers for tests that run inside workerd against the Worker's own routes and a real HTTP sink.
import { env, SELF } from "cloudflare:test";
import { expect } from "vitest";

export const SINK = (env as unknown as { SINK_URL: string }).SINK_URL;
export const ORIGIN = "http://eddy.test";
/** The admin token: the control plane's, and a valid sender at every ingress (AUTHENTICATION_OIDC is on). */
export const AUTH = { Authorization: "Bearer test-token" };

export interface SinkRec { method: string; path: string; headers: Record<string, string>; body: string; at: number }

export function uid(prefix = "k"): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

export async function apply(obj: { apiVersion: string; kind: string; metadata: { name: string; namespace: string; [field: string]: unknown }; [field: string]: unknown }, plural: string): Promise<any> {
  const r = await SELF.fetch(`${ORIGIN}/apis/${obj.apiVersion}/namespaces/${obj.metadata.namespace}/${plural}/${obj.metadata.name}`, {
    method: "PUT",
    headers: { ...AUTH, "Content-Type": "application/json" },
    body: JSON.stringify(obj),
  });
  const body = await r.json();
  expect(r.status, JSON.stringify(body)).toBeLessThan(300);
  return body;
}

export function brokerObj(ns: string, name: string, spec: Record<string, unknown> = {}) {
  return { apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name, namespace: ns }, spec };
}

export function triggerObj(ns: string, name: string, broker: string, uri: string, extra: Record<string, unknown> = {}) {
  return { apiVersion: "eventing.knative.dev/v1", kind: "Trigger", metadata: { name, namespace: ns }, spec: { broker, subscriber: { uri }, ...extra } };
}

export async function send(ns: string, broker: string, attrs: Record<string, string>, body = "{}"): Promise<Response> {
  const headers: Record<string, string> = { ...AUTH, "Content-Type": "application/json" };
  for (const [k, v] of Object.entries(attrs)) headers[`ce-${k}`] = v;
  return SELF.fetch(`${ORIGIN}/brokers/${ns}/${broker}`, { method: "POST", headers, body });
}

export async function sinkLog(key: string): Promise<SinkRec[]> {
  return (await fetch(`${SINK}/__log/${key}`)).json();
}

/** Polls the sink until `key` has at least `n` requests. */
export async function waitLog(key: string, n: number, timeoutMs = 15_000): Promise<SinkRec[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const log = await sinkLog(key);
    if (log.length >= n) return log;
    if (Date.now() > until) throw new Error(`sink key ${key}: ${log.length} request(s), expected ${n}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function decode(b64: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
}

/** GET a control-plane path (`/apis/...`) as JSON. */
export async function getJson(path: string): Promise<any> {
  const r = await SELF.fetch(`${ORIGIN}${path}`, { headers: AUTH });
  return r.json();
}

export async function stats(ns: string, broker: string): Promise<any> {
  const r = await SELF.fetch(`${ORIGIN}/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers/${broker}/stats`, { headers: AUTH });
  return r.json();
}
