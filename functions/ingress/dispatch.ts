import { Hono } from "hono";
import type { Addressable } from "../../core/addressables.js";
import { ApiError } from "../../core/errors.js";
import type { PlanBinding } from "../../core/resources/plan.js";
import type { Env } from "../env.js";
import { publishTo } from "../../durable-objects/objects.js";
import { sink } from "./sink.js";
import { authenticate, ingressAudience } from "../identity.js";
import { addressExists, plausible } from "./addresses.js";
import { forgetPlacement, placed, type OwnerName } from "../placement.js";

/** The data-plane object behind an ingress address, how a 404 names it, and the audience of its tokens. */
export interface IngressTarget {
  binding: PlanBinding;
  name: string;
  what: string;
  audience: string;
  /** The resource behind the address (namespace and name checked in the Worker before any object is called), to find where its objects are placed. */
  owner: OwnerName;
}

/**
 * Hands events to the data-plane object of `t`, sent by whoever holds a token for its audience
 * (401 otherwise); 404 naming it when it does not exist, 403 when its EventPolicies refuse the sender.
 */
export function sinkTo(req: Request, env: Env, t: IngressTarget): Promise<Response> {
  const missing = () => new ApiError(404, `${t.what} does not exist; create it through the API first`);
  return sink(req, env, async (events, sender) => {
    // No data-plane object is addressed before the namespace's control plane says it is configured.
    if (!plausible(t.owner.ns, t.owner.name) || !(await addressExists(env, t.owner.ns, t))) throw missing();
    const res = await publishTo(env, await placed(env, { binding: t.binding, name: t.name }, t.owner), events, sender);
    if (res.ok) return;
    if (res.status === 403) throw new ApiError(403, res.message);
    forgetPlacement(t.owner);
    throw missing();
  }, () => authenticate(env, req, t.audience));
}

/**
 * The object behind `/{prefix}/{ns}/{name}` (or its step or branch `i`), from the addressables
 * table. A flow's internal channel answers to the flow's audience.
 */
export function targetOf(a: Addressable, ns: string, name: string, i?: number): IngressTarget {
  const label = a.kind.toLowerCase();
  const audience = ingressAudience(a.kind, ns, name);
  const owner = { kind: a.kind, ns, name };
  if (i !== undefined && a.sub) {
    return { binding: a.binding, name: a.sub.key(ns, name, i), what: `${label} "${name}" (${a.sub.path} ${i}) in namespace "${ns}"`, audience, owner };
  }
  return { binding: a.binding, name: a.key(ns, name), what: `${label} "${name}" in namespace "${ns}"`, audience, owner };
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
  r.all(`/:ns/:name${NAME}`, (c) => sinkTo(c.req.raw, c.env, targetOf(a, c.req.param("ns"), strip(c.req.param("name")))));
  if (a.sub) {
    r.all(`/:ns/:name/${a.sub.path}/:i{[0-9]+/?}`, (c) => {
      const { ns, name } = c.req.param();
      return sinkTo(c.req.raw, c.env, targetOf(a, ns, name, Number(strip(c.req.param("i")))));
    });
  }
  return r;
}
