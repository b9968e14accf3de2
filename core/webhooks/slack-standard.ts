import { base64ToBytes, concat, hexToBytes, hmacMatches, sha256Hex, utf8 } from "./crypto.js";
import { staleReason, unixToIso } from "./timestamp.js";
import type { Provider } from "./types.js";

type Json = Record<string, any>;

/**
 * Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<ts>:<body>">` with
 * `X-Slack-Request-Timestamp`, five minutes of tolerance. Answers the `url_verification`
 * handshake with its challenge; Events API deliveries use `event_id` (kept on Slack's retries).
 */
export const slack: Provider = {
  defaultToleranceMs: 300_000,
  async verify(req, keys, cfg) {
    const ts = req.headers.get("x-slack-request-timestamp");
    const stale = staleReason(ts, cfg.toleranceMs, req.now, "X-Slack-Request-Timestamp");
    if (stale) return stale;
    const h = req.headers.get("x-slack-signature");
    if (!h) return "missing X-Slack-Signature";
    const sig = h.startsWith("v0=") ? hexToBytes(h.slice(3)) : null;
    if (!sig) return "X-Slack-Signature must be v0=<hex>";
    return (await hmacMatches("sha256", keys, concat(`v0:${ts!.trim()}:`, req.body), sig)) ? null : "X-Slack-Signature does not match under any configured signing secret";
  },
  async describe(req, json) {
    const p = json as Json | undefined;
    if (p?.type === "url_verification" && typeof p.challenge === "string") {
      return { kind: "handshake", status: 200, contentType: "text/plain", body: p.challenge };
    }
    const team = p?.team_id ?? "unknown";
    if (p?.type === "event_callback" && p.event) {
      return {
        type: `com.slack.${p.event.type ?? "event"}`,
        id: String(p.event_id ?? (await sha256Hex(req.body)).slice(0, 32)),
        source: `https://slack.com/${team}`,
        ...(typeof p.event.channel === "string" ? { subject: p.event.channel } : {}),
        ...(unixToIso(p.event_time) ? { time: unixToIso(p.event_time)! } : {}),
      };
    }
    // Slash commands and interactivity arrive form-encoded and are never retried by Slack.
    const form = new URLSearchParams(new TextDecoder().decode(req.body));
    const command = form.get("command");
    const type = command ? "com.slack.command" : form.has("payload") ? "com.slack.interaction" : `com.slack.${p?.type ?? "request"}`;
    return {
      type,
      id: (await sha256Hex(concat(req.headers.get("x-slack-signature") ?? "", req.body))).slice(0, 32),
      source: `https://slack.com/${form.get("team_id") ?? team}`,
      ...(command ? { subject: command } : {}),
    };
  },
};

/**
 * Standard Webhooks (Svix and others): `webhook-id`, `webhook-timestamp` and
 * `webhook-signature: v1,<base64> [v1,<base64> ...]` over `<id>.<timestamp>.<body>`; the secret is
 * `whsec_<base64 key>`. The webhook id is the delivery id, kept across retries.
 */
export const standardWebhooks: Provider = {
  defaultToleranceMs: 300_000,
  key(secret) {
    const raw = secret.startsWith("whsec_") ? secret.slice(6) : secret;
    return base64ToBytes(raw) ?? utf8(secret);
  },
  async verify(req, keys, cfg) {
    const id = req.headers.get("webhook-id");
    const ts = req.headers.get("webhook-timestamp");
    const sigs = req.headers.get("webhook-signature");
    if (!id || !sigs) return "missing webhook-id or webhook-signature";
    const stale = staleReason(ts, cfg.toleranceMs, req.now, "webhook-timestamp");
    if (stale) return stale;
    const data = concat(`${id}.${ts!.trim()}.`, req.body);
    for (const s of sigs.split(" ")) {
      const [version, b64] = s.split(",");
      if (version !== "v1" || !b64) continue;
      const sig = base64ToBytes(b64);
      if (sig && (await hmacMatches("sha256", keys, data, sig))) return null;
    }
    return "no v1 signature in webhook-signature matches under any configured secret";
  },
  async describe(req, json, cfg) {
    const p = (json ?? {}) as Json;
    const kind = typeof p.type === "string" && p.type ? p.type : "event";
    return {
      type: `${cfg.typePrefix ?? "com.standardwebhooks"}.${kind}`,
      id: req.headers.get("webhook-id")!,
      source: cfg.eventSource,
      ...(unixToIso(req.headers.get("webhook-timestamp")) ? { time: unixToIso(req.headers.get("webhook-timestamp"))! } : {}),
    };
  },
};
