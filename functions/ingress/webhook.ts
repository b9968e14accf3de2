import { Hono, type Context } from "hono";
import type { Addressable } from "../../core/addressables.js";
import { ApiError } from "../../core/errors.js";
import { maxEventBytes } from "../../core/limits.js";
import { readBody } from "../body.js";
import type { Env } from "../env.js";
import { addressExists, plausible } from "./addresses.js";

/**
 * The public URL of every WebhookSource: `/webhooks/{namespace}/{name}` (its `status.address.url`).
 * The source's Durable Object verifies the signature and stores the event before this answers 202;
 * a delivery it refuses (401) leaves nothing behind.
 */
export function webhookIngress(a: Addressable): Hono<{ Bindings: Env }> {
  const r = new Hono<{ Bindings: Env }>();
  r.all("/:ns/:name{[^/]+/?}", (c) => receive(c, a));
  return r;
}

async function receive(c: Context<{ Bindings: Env }>, a: Addressable): Promise<Response> {
  if (c.req.method !== "POST") {
    throw new ApiError(405, `${c.req.method} is not allowed: providers deliver webhooks with POST`, [], {}, { Allow: "POST" });
  }
  const { ns, name: raw } = c.req.param() as { ns: string; name: string };
  const name = raw.replace(/\/$/, "");
  const body = await readBody(c.req.raw, maxEventBytes(c.env));
  const missing = () => new ApiError(404, `webhook source "${name}" does not exist in namespace "${ns}"; create a WebhookSource first`);
  // Public and anonymous: no object is addressed before its namespace says it is configured.
  const key = { binding: a.binding, name: a.key(ns, name) };
  if (!plausible(ns, name) || !(await addressExists(c.env, ns, key))) throw missing();
  const stub = c.env.SOURCE.get(c.env.SOURCE.idFromName(key.name));
  const r = await stub.receive([...c.req.raw.headers], body);
  if (!r.ok) throw r.status === 404 ? missing() : ApiError.from(r);
  const answer = r.value;
  return new Response(answer.body ?? null, { status: answer.status, headers: answer.contentType ? { "Content-Type": answer.contentType } : {} });
}
