import { Hono } from "hono";
import type { Env } from "../env.js";
import { sinkTo, type IngressTarget } from "./dispatch.js";
import { ingressAudience } from "../identity.js";

/**
 * Broker ingress, the `status.address.url` of every Broker: `/brokers/{namespace}/{name}`.
 * The Broker's Durable Object stores each event with its deliveries before this answers 202.
 */
export const brokerIngress = new Hono<{ Bindings: Env }>();

brokerIngress.all("/:ns/:name{[^/]+/?}", (c) => {
  const ns = c.req.param("ns");
  const name = c.req.param("name").replace(/\/$/, "");
  return sinkTo(c.req.raw, c.env, brokerTarget(ns, name));
});

/** The Broker named `ns/name`. */
export function brokerTarget(ns: string, name: string): IngressTarget {
  return { binding: "BROKER", name: `${ns}/${name}`, what: `broker "${name}" in namespace "${ns}"`, audience: ingressAudience("Broker", ns, name) };
}
