import { Hono } from "hono";
import type { Addressable } from "../../core/addressables.js";
import type { Source } from "../../durable-objects/source.js";
import type { Env } from "../env.js";
import { authenticate, ingressAudience } from "../identity.js";
import { eventResponse } from "./answer.js";
import { oneEvent, receiveEvents } from "./sink.js";

/**
 * `/eventtransforms/{ns}/{name}`: Knative's sink contract (405, 413, 400, then 401), one event per
 * request, answered by the EventTransform's object with the transformed event (or its sink's
 * answer); 404 when there is no such EventTransform, 400 with the reason when its expression fails.
 */
export function transformIngress(a: Addressable): Hono<{ Bindings: Env }> {
  const r = new Hono<{ Bindings: Env }>();
  r.all("/:ns/:name{[^/]+/?}", async (c) => {
    const ns = c.req.param("ns");
    const name = c.req.param("name").replace(/\/$/, "");
    const events = await receiveEvents(c.req.raw, c.env);
    if (events instanceof Response) return events;
    const event = oneEvent(events, `EventTransform "${name}"`);
    const sender = await authenticate(c.env, c.req.raw, ingressAudience(a.kind, ns, name));
    const stub = (c.env.SOURCE as DurableObjectNamespace<Source>).get(c.env.SOURCE.idFromName(a.key(ns, name)));
    const answer = await stub.transform(event, sender);
    if (answer.status === 404) answer.message = `eventtransform "${name}" in namespace "${ns}" does not exist; create it through the API first`;
    return eventResponse(answer, "structured");
  });
  return r;
}
