import { Hono } from "hono";
import type { Addressable } from "../../core/addressables.js";
import type { Source } from "../../durable-objects/source.js";
import type { Env } from "../env.js";
import { answeringRequest, eventResponse } from "./answer.js";

/**
 * `/eventtransforms/{ns}/{name}`: Knative's sink contract (405, 413, 400, then 401), one event per
 * request, answered by the EventTransform's object with the transformed event (or its sink's
 * answer); 404 when there is no such EventTransform, 400 with the reason when its expression fails.
 */
export function transformIngress(a: Addressable): Hono<{ Bindings: Env }> {
  const r = new Hono<{ Bindings: Env }>();
  r.all("/:ns/:name{[^/]+/?}", async (c) => {
    const req = await answeringRequest(c, a);
    if (req instanceof Response) return req;
    const { ns, name, event, sender } = req;
    const stub = (c.env.SOURCE as DurableObjectNamespace<Source>).get(c.env.SOURCE.idFromName(a.key(ns, name)));
    const answer = await stub.transform(event, sender);
    if (answer.status === 404) answer.message = `eventtransform "${name}" in namespace "${ns}" does not exist; create it through the API first`;
    return eventResponse(answer, "structured");
  });
  return r;
}
