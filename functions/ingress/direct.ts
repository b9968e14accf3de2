import { answerError } from "../app.js";
import { discardUnreadBody } from "../body.js";
import type { Env } from "../env.js";
import { brokerTarget } from "./broker.js";
import { channelTarget, sinkTo, type IngressTarget } from "./dispatch.js";

/** The kinds whose ingress is `/{prefix}/{ns}/{name}` with no sub-path, as app.ts mounts them. */
const PLAIN: Record<string, (ns: string, name: string) => IngressTarget> = {
  brokers: brokerTarget,
  channels: (ns, name) => channelTarget("Channel", "channel", ns, name),
  inmemorychannels: (ns, name) => channelTarget("InMemoryChannel", "inmemorychannel", ns, name),
};

/** Segments without `%`: a path the router would have to percent-decode goes to it. */
const PATH = /^\/(brokers|channels|inmemorychannels)\/([^/%]+)\/([^/%]+)\/?$/;

/**
 * A POST of events to a Broker or channel, answered without the router. This is nearly all of the
 * Worker's traffic, and the router's matching and per-request context cost about a tenth of an
 * event's CPU (measured with bench/profile.mjs). Everything else, and any path the router would
 * decode, returns undefined and goes through the app; what this answers is what the app would
 * answer (the same handler, the same error answers, the body drained the same way afterwards).
 *
 * @example
 * fetch: (req, env, ctx) => directIngress(req, env) ?? app.fetch(req, env, ctx)
 */
export function directIngress(req: Request, env: Env): Promise<Response> | undefined {
  if (req.method !== "POST") return undefined;
  const path = pathOf(req.url);
  const m = PATH.exec(path);
  if (!m) return undefined;
  return answer(req, env, path, PLAIN[m[1]!]!(m[2]!, m[3]!));
}

async function answer(req: Request, env: Env, path: string, target: IngressTarget): Promise<Response> {
  let res: Response;
  try {
    res = await sinkTo(req, env, target);
  } catch (e) {
    res = answerError(req.method, path, e);
  }
  await discardUnreadBody(req);
  return res;
}

/** The path of an absolute request URL, without its query (as the router reads it). */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  if (start === -1) return "/";
  const q = url.indexOf("?", start);
  return url.slice(start, q === -1 ? undefined : q);
}
