import { addressable } from "../../core/addressables.js";
import { answerError } from "../app.js";
import { discardUnreadBody } from "../body.js";
import type { Env } from "../env.js";
import { sinkTo, targetOf, type IngressTarget } from "./dispatch.js";

/**
 * `/{prefix}/{ns}/{name}` or `/{prefix}/{ns}/{name}/{sub}/{i}`, segments without `%`: a path the
 * router would have to percent-decode goes to it.
 */
const PATH = /^\/([a-z]+)\/([^/%]+)\/([^/%]+?)(?:\/([a-z]+)\/([0-9]+))?\/?$/;

/** Targets of recent paths: producers post to a few addresses over and over. */
const recent = new Map<string, IngressTarget | undefined>();

/** The ingress target of a path, from the addressables table, as app.ts's routes would find it. */
function targetOfPath(path: string): IngressTarget | undefined {
  if (recent.has(path)) return recent.get(path);
  if (recent.size >= 256) recent.clear();
  const target = parseTarget(path);
  recent.set(path, target);
  return target;
}

function parseTarget(path: string): IngressTarget | undefined {
  const m = PATH.exec(path);
  const a = m && addressable(m[1]!);
  if (!m || !a || a.serves === "webhook") return undefined;
  // Only addresses that store what they take: the others answer with an event, through the router.
  if (m[4] === undefined) return a.serves === "publish" ? targetOf(a, m[2]!, m[3]!) : undefined;
  return a.sub && m[4] === a.sub.path ? targetOf(a, m[2]!, m[3]!, Number(m[5])) : undefined;
}

/**
 * A POST of events to an addressable that stores them (a Broker, a channel, a flow, a RequestReply's
 * reply address), answered without the router. This is nearly all of the
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
  const target = targetOfPath(path);
  return target ? answer(req, env, path, target) : undefined;
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
