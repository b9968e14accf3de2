// Emits events with the official `cloudevents` SDK, an independent client of Eddy's ingress.
import { CloudEvent, HTTP } from "cloudevents";
import { adminToken } from "./platform.js";

/**
 * `Authorization: Bearer <ADMIN_TOKEN>`: with AUTHENTICATION_OIDC on (the default) every ingress but
 * webhooks wants a sender, and the admin token is one. Tests about identity pass their own header.
 */
export function senderAuth(): Record<string, string> {
  return { Authorization: `Bearer ${adminToken()}` };
}

function withSender(headers: Record<string, string>): Record<string, string> {
  return Object.keys(headers).some((k) => k.toLowerCase() === "authorization") ? headers : { ...senderAuth(), ...headers };
}

export type Mode = "binary" | "structured";

export async function emit(url: string, attrs: Record<string, unknown>, mode: Mode = "binary"): Promise<Response> {
  const ev = new CloudEvent({ specversion: "1.0", source: "/e2e", type: "com.example.test", ...attrs } as any);
  const msg = mode === "binary" ? HTTP.binary(ev) : HTTP.structured(ev);
  return fetch(url, { method: "POST", headers: withSender(msg.headers as Record<string, string>), body: msg.body as string });
}

/** POSTs raw headers and body, for the cases an SDK would refuse to produce; as the admin sender unless `headers` name one. */
export function post(url: string, headers: Record<string, string>, body?: string | Uint8Array, method = "POST"): Promise<Response> {
  return fetch(url, { method, headers: withSender(headers), ...(body !== undefined ? { body: body as BodyInit } : {}) });
}

export function binaryHeaders(attrs: Record<string, string>, contentType = "application/json"): Record<string, string> {
  const h: Record<string, string> = { "Content-Type": contentType };
  for (const [k, v] of Object.entries(attrs)) h[`ce-${k}`] = v;
  return h;
}
