import type { Context } from "hono";
import { Hono } from "hono";
import type { Addressable } from "../../core/addressables.js";
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
 * The CloudEvents ingress of one row of the addressables table (core/addressables.ts):
 * `/{ns}/{name}` and, for flows, `/{ns}/{name}/{sub}/{i}` for their step or branch channels. The
 * object behind each address comes from the table, as it does for in-process hops.
 *
 * @example
 * app.route("/brokers", addressableIngress(addressable("brokers")!));
 */
export function addressableIngress(a: Addressable): Hono<{ Bindings: Env }> {
  const r = new Hono<{ Bindings: Env }>();
  const label = a.kind.toLowerCase();
  r.all(`/:ns/:name${NAME}`, (c) => {
    const { ns } = c.req.param();
    const name = strip(c.req.param("name"));
    return sinkTo(c, a.binding, a.key(ns, name), `${label} "${name}" in namespace "${ns}"`, ingressAudience(a.kind, ns, name));
  });
  const sub = a.sub;
  if (sub) {
    r.all(`/:ns/:name/${sub.path}/:i{[0-9]+/?}`, (c) => {
      const { ns, name } = c.req.param();
      const i = strip(c.req.param("i"));
      // A flow's internal channel answers to the flow's audience.
      return sinkTo(c, a.binding, sub.key(ns, name, Number(i)), `${label} "${name}" (${sub.path} ${i}) in namespace "${ns}"`, ingressAudience(a.kind, ns, name));
    });
  }
  return r;
}
