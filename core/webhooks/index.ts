import type { AttrValue, CloudEvent } from "../cloudevents/event.js";
import { adoptTrace } from "../cloudevents/trace.js";
import { validateEvent } from "../cloudevents/validate.js";
import { utf8 } from "./crypto.js";
import { genericHmac } from "./generic.js";
import { github, stripe } from "./github-stripe.js";
import { slack, standardWebhooks } from "./slack-standard.js";
import type { Provider, WebhookConfig, WebhookProvider, WebhookRequest, WebhookResult } from "./types.js";

export type { WebhookConfig, WebhookProvider, WebhookResult, GenericHmacSpec } from "./types.js";

export const PROVIDERS: Record<WebhookProvider, Provider> = {
  github, stripe, "standard-webhooks": standardWebhooks, slack, "generic-hmac": genericHmac,
};

/** Default timestamp tolerance of a provider's scheme (0 when it signs no timestamp). */
export function defaultTolerance(provider: WebhookProvider): number {
  return PROVIDERS[provider].defaultToleranceMs ?? 300_000;
}

/**
 * Receives one webhook delivery: checks its signature against every configured secret (so secrets
 * can be rotated), enforces the scheme's timestamp tolerance, answers the provider's handshake, and
 * turns the delivery into a CloudEvent whose data is the exact bytes received and whose id is the
 * provider's delivery id. Nothing is stored here; a rejection means nothing must be.
 *
 * @example
 * const r = await receiveWebhook(cfg, ["s3cret"], { headers: req.headers, body, now: Date.now() });
 * if (r.kind === "event") await source.publish([r.event]);
 */
export async function receiveWebhook(cfg: WebhookConfig, secrets: string[], req: WebhookRequest): Promise<WebhookResult> {
  const p = PROVIDERS[cfg.provider];
  const keys = secrets.map((s) => (p.key ? p.key(s) : utf8(s)));
  const bad = await p.verify(req, keys, cfg);
  if (bad) return { kind: "reject", status: 401, message: bad };
  const ct = req.headers.get("content-type");
  let json: unknown;
  if (ct && /[/+]json/i.test(ct.split(";")[0]!)) {
    try {
      json = JSON.parse(new TextDecoder().decode(req.body));
    } catch {
      return { kind: "reject", status: 400, message: "the body is not valid JSON although Content-Type says it is" };
    }
  }
  const d = await p.describe(req, json, cfg);
  if ("kind" in d) return d;
  const attrs: Record<string, AttrValue> = {
    specversion: "1.0", id: d.id, source: d.source, type: d.type, time: d.time ?? new Date(req.now).toISOString(),
  };
  if (d.subject) attrs.subject = d.subject;
  if (ct) attrs.datacontenttype = ct;
  for (const [k, v] of Object.entries(cfg.extensions ?? {})) attrs[k] = v;
  let event: CloudEvent = { attrs };
  if (req.body.length) event.data = req.body;
  event = adoptTrace(event, req.headers); // a sender's W3C trace headers follow the event
  try {
    validateEvent(event);
  } catch (e) {
    return { kind: "reject", status: 400, message: `the delivery does not make a valid CloudEvent: ${(e as Error).message}` };
  }
  return { kind: "event", event };
}
