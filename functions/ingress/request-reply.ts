import { Hono } from "hono";
import type { Addressable } from "../../core/addressables.js";
import { requestReply } from "../../durable-objects/request-reply/call.js";
import type { Env } from "../env.js";
import { answeringRequest, eventResponse } from "./answer.js";
import { sinkTo, targetOf } from "./dispatch.js";

/**
 * `/requestreplies/{ns}/{name}`: a request whose answer is its reply. Knative's sink contract
 * (405, 413, 400, then 401), one event per request, held open by one shard of the RequestReply
 * until the reply comes back through the Broker (200, the reply in binary mode) or the timeout
 * (504); 429 when the shard already holds its limit of waiting requests, 503 while it is not ready.
 * `/requestreplies/{ns}/{name}/replies/{i}` is shard i's reply address, for its reply Trigger.
 */
export function requestReplyIngress(a: Addressable): Hono<{ Bindings: Env }> {
  const r = new Hono<{ Bindings: Env }>();
  r.all("/:ns/:name{[^/]+/?}", async (c) => {
    const req = await answeringRequest(c, a);
    if (req instanceof Response) return req;
    const { ns, name, event, sender } = req;
    const answer = await requestReply(c.env, ns, name, event, sender);
    if (answer.status === 404) answer.message = `requestreply "${name}" in namespace "${ns}" does not exist; create it through the API first`;
    return eventResponse(answer, "binary");
  });
  r.all(`/:ns/:name/${a.sub!.path}/:i{[0-9]+/?}`, (c) => {
    const { ns, name } = c.req.param();
    return sinkTo(c.req.raw, c.env, targetOf(a, ns, name, Number(c.req.param("i").replace(/\/$/, ""))));
  });
  return r;
}
