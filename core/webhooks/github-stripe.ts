import { concat, hexToBytes, hmacMatches } from "./crypto.js";
import { staleReason, unixToIso } from "./timestamp.js";
import type { Provider } from "./types.js";

type Json = Record<string, any>;

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, the event name in
 * `X-GitHub-Event`, the delivery id in `X-GitHub-Delivery` (kept across GitHub's redeliveries).
 * A `ping` (sent when a hook is created) is answered and not forwarded.
 */
export const github: Provider = {
  async verify(req, keys) {
    const h = req.headers.get("x-hub-signature-256");
    if (!h) return "missing X-Hub-Signature-256: set a secret on the GitHub webhook";
    const sig = h.startsWith("sha256=") ? hexToBytes(h.slice(7)) : null;
    if (!sig) return "X-Hub-Signature-256 must be sha256=<hex>";
    return (await hmacMatches("sha256", keys, req.body, sig)) ? null : "X-Hub-Signature-256 does not match the body under any configured secret";
  },
  async describe(req, json) {
    const event = req.headers.get("x-github-event");
    const id = req.headers.get("x-github-delivery");
    if (!event || !id) return { kind: "reject", status: 400, message: "a GitHub delivery carries X-GitHub-Event and X-GitHub-Delivery" };
    if (event === "ping") return { kind: "handshake", status: 200, contentType: "application/json", body: '{"ok":true}' };
    const p = (json ?? {}) as Json;
    const action = typeof p.action === "string" ? `.${p.action}` : "";
    const number = p.pull_request?.number ?? p.issue?.number ?? p.number;
    const subject = typeof p.ref === "string" ? p.ref : number !== undefined ? String(number) : undefined;
    return {
      type: `com.github.${event}${action}`,
      id,
      source: p.repository?.html_url ?? (p.organization?.login ? `https://github.com/${p.organization.login}` : "https://github.com"),
      ...(subject ? { subject } : {}),
    };
  },
};

/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]` over `<t>.<body>`, five minutes of
 * tolerance. The event id (`evt_...`) is the same on every retry of an event, so it deduplicates.
 */
export const stripe: Provider = {
  defaultToleranceMs: 300_000,
  async verify(req, keys, cfg) {
    const h = req.headers.get("stripe-signature");
    if (!h) return "missing Stripe-Signature: configure the endpoint's signing secret (whsec_...)";
    const parts = h.split(",").map((p) => p.trim().split("="));
    const t = parts.find(([k]) => k === "t")?.[1];
    const stale = staleReason(t, cfg.toleranceMs, req.now, "Stripe-Signature timestamp");
    if (stale) return stale;
    const data = concat(`${t}.`, req.body);
    for (const [k, v] of parts) {
      if (k !== "v1" || !v) continue;
      const sig = hexToBytes(v);
      if (sig && (await hmacMatches("sha256", keys, data, sig))) return null;
    }
    return "no v1 signature in Stripe-Signature matches the body under any configured secret";
  },
  async describe(_req, json) {
    const p = (json ?? {}) as Json;
    if (typeof p.id !== "string" || typeof p.type !== "string") return { kind: "reject", status: 400, message: "a Stripe event is a JSON object with id and type" };
    const object = p.data?.object;
    return {
      type: `com.stripe.${p.type}`,
      id: p.id,
      source: typeof p.account === "string" ? `https://api.stripe.com/v1/accounts/${p.account}` : "https://api.stripe.com",
      ...(typeof object?.id === "string" ? { subject: object.id } : {}),
      ...(unixToIso(p.created) ? { time: unixToIso(p.created)! } : {}),
    };
  },
};
