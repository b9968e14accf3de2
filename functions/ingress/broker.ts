import { Hono } from "hono";
import { ApiError } from "../../core/errors.js";
import type { Env } from "../env.js";
import { sink } from "./sink.js";

/**
 * Broker ingress, the `status.address.url` of every Broker: `/brokers/{namespace}/{name}`.
 * The Broker's Durable Object stores each event with its deliveries before this answers 202.
 */
export const brokerIngress = new Hono<{ Bindings: Env }>();

brokerIngress.all("/:ns/:name{[^/]+/?}", (c) => {
  const ns = c.req.param("ns");
  const name = c.req.param("name").replace(/\/$/, "");
  return sink(c, async (events) => {
    const res = await c.env.BROKER.get(c.env.BROKER.idFromName(`${ns}/${name}`)).publish(events);
    if (!res.ok) throw new ApiError(404, `broker "${name}" does not exist in namespace "${ns}"; create it through the API first`);
  });
});
