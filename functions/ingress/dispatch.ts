import { Hono } from "hono";
import { ApiError } from "../../core/errors.js";
import type { PlanBinding } from "../../core/resources/plan.js";
import type { Env } from "../env.js";
import { publishTo } from "../../durable-objects/objects.js";
import { sink } from "./sink.js";
import { authenticate, ingressAudience } from "../identity.js";

/** The data-plane object behind an ingress address, how a 404 names it, and the audience of its tokens. */
export interface IngressTarget {
  binding: PlanBinding;
  name: string;
  what: string;
  audience: string;
}

/**
 * Hands events to the data-plane object `name`, sent by whoever holds a token for `audience` (401
 * otherwise); 404 with `what` when it does not exist, 403 when its EventPolicies refuse the sender.
 */
export function sinkTo(req: Request, env: Env, t: IngressTarget): Promise<Response> {
  return sink(req, env, async (events, sender) => {
    const res = await publishTo(env, { binding: t.binding, name: t.name }, events, sender);
    if (res.ok) return;
    if (res.status === 403) throw new ApiError(403, res.message);
    throw new ApiError(404, `${t.what} does not exist; create it through the API first`);
  }, () => authenticate(env, req, t.audience));
}

/** The channel-like addressable of `kind` named `ns/name` (its first step or branch channel for flows with `first`). */
export function channelTarget(kind: string, label: string, ns: string, name: string, first?: number): IngressTarget {
  const key = first !== undefined ? `${kind}/${ns}/${name}/${first}` : `${kind}/${ns}/${name}`;
  return { binding: "CHANNEL", name: key, what: `${label} "${name}" in namespace "${ns}"`, audience: ingressAudience(kind, ns, name) };
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
    return sinkTo(c.req.raw, c.env, channelTarget(kind, label, ns, name, sub?.first));
  });
  if (sub) {
    r.all(`/:ns/:name/${sub.path}/:i{[0-9]+/?}`, (c) => {
      const { ns, name } = c.req.param();
      const i = strip(c.req.param("i"));
      // A flow's internal channel answers to the flow's audience.
      return sinkTo(c.req.raw, c.env, {
        binding: "CHANNEL", name: `${kind}/${ns}/${name}/${Number(i)}`, what: `${label} "${name}" (${sub.path} ${i}) in namespace "${ns}"`, audience: ingressAudience(kind, ns, name),
      });
    });
  }
  return r;
}
