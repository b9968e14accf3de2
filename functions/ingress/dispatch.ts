import type { Context } from "hono";
import { Hono } from "hono";
import { ApiError } from "../../core/errors.js";
import type { PlanBinding } from "../../core/resources/plan.js";
import type { Env } from "../env.js";
import { publishTo } from "../../durable-objects/objects.js";
import { sink } from "./sink.js";
import { authenticate, ingressAudience } from "../identity.js";

type C = Context<{ Bindings: Env }>;

/**
 * Hands events to the data-plane object `name`, sent by whoever holds a token for `audience` (401
 * otherwise); 404 with `what` when it does not exist, 403 when its EventPolicies refuse the sender.
 */
export function sinkTo(c: C, binding: PlanBinding, name: string, what: string, audience: string): Promise<Response> {
  return sink(c, async (events, sender) => {
    const res = await publishTo(c.env, { binding, name }, events, sender);
    if (res.ok) return;
    if (res.status === 403) throw new ApiError(403, res.message);
    throw new ApiError(404, `${what} does not exist; create it through the API first`);
  }, () => authenticate(c.env, c.req.raw, audience));
}

const NAME = "{[^/]+/?}";
const strip = (s: string) => s.replace(/\/$/, "");

/**
 * Ingress of a channel-like addressable: `/{ns}/{name}` and, for flows, `/{ns}/{name}/{sub}/{i}`
 * for their internal step or branch channels.
 *
 * @example
 * app.route("/channels", channelIngress("Channel", "channel"));
 */
export function channelIngress(kind: string, label: string, sub?: { path: string; first?: number }): Hono<{ Bindings: Env }> {
  const r = new Hono<{ Bindings: Env }>();
  r.all(`/:ns/:name${NAME}`, (c) => {
    const { ns } = c.req.param();
    const name = strip(c.req.param("name"));
    const key = sub?.first !== undefined ? `${kind}/${ns}/${name}/${sub.first}` : `${kind}/${ns}/${name}`;
    return sinkTo(c, "CHANNEL", key, `${label} "${name}" in namespace "${ns}"`, ingressAudience(kind, ns, name));
  });
  if (sub) {
    r.all(`/:ns/:name/${sub.path}/:i{[0-9]+/?}`, (c) => {
      const { ns, name } = c.req.param();
      const i = strip(c.req.param("i"));
      // A flow's internal channel answers to the flow's audience.
      return sinkTo(c, "CHANNEL", `${kind}/${ns}/${name}/${Number(i)}`, `${label} "${name}" (${sub.path} ${i}) in namespace "${ns}"`, ingressAudience(kind, ns, name));
    });
  }
  return r;
}
