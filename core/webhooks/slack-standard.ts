import { base64ToBytes, concat, hexToBytes, hmacMatches, sha256Hex, utf8 } from "./crypto.js";
import { staleReason, unixToIso } from "./timestamp.js";
import type { Provider, WebhookRequest } from "./types.js";

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
    if (!h) return "missing X-Slack-Signature: Slack signs every request with the app's signing secret; is this request from Slack?";
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

/** One family of Standard Webhooks headers: the standard's own names, or Svix's default ones. */
interface HeaderFamily {
  id: string;
  timestamp: string;
  signature: string;
}

const FAMILIES: readonly HeaderFamily[] = [
  { id: "webhook-id", timestamp: "webhook-timestamp", signature: "webhook-signature" },
  { id: "svix-id", timestamp: "svix-timestamp", signature: "svix-signature" },
];

/** The family whose signature verified each delivery, for describe() to take the id and time from. */
const verifiedFamily = new WeakMap<object, HeaderFamily>();

/** Null when the family's three headers are present, fresh and signed by one of `keys`; else why not. */
async function verifyFamily(req: WebhookRequest, keys: Uint8Array[], toleranceMs: number, f: HeaderFamily): Promise<string | null> {
  const id = req.headers.get(f.id);
  const ts = req.headers.get(f.timestamp);
  const sigs = req.headers.get(f.signature);
  if (!id || !sigs) return `missing ${id ? f.signature : f.id}: a delivery carries ${f.id}, ${f.timestamp} and ${f.signature} together`;
  const stale = staleReason(ts, toleranceMs, req.now, f.timestamp);
  if (stale) return stale;
  const data = concat(`${id}.${ts!.trim()}.`, req.body);
  for (const s of sigs.split(" ")) {
    const [version, b64] = s.split(",");
    if (version !== "v1" || !b64) continue;
    const sig = base64ToBytes(b64);
    if (sig && (await hmacMatches("sha256", keys, data, sig))) return null;
  }
  return `no v1 signature in ${f.signature} matches under any configured secret`;
}

/**
 * Standard Webhooks (Svix and others): `webhook-id`, `webhook-timestamp` and
 * `webhook-signature: v1,<base64> [v1,<base64> ...]` over `<id>.<timestamp>.<body>`; the secret is
 * `whsec_<base64 key>`. The webhook id is the delivery id, kept across retries.
 *
 * Svix, and the services that send through it (Clerk, Resend...), name the same headers `svix-id`,
 * `svix-timestamp` and `svix-signature` by default. Both families are read, each as a whole (a
 * header of one is never combined with those of the other). When a delivery carries both,
 * `webhook-*` is checked first, then `svix-*`; it is accepted when either verifies, and its id and
 * time come from the family that did. Each accepted family is thus signed over its own id and
 * timestamp, so the choice never lets an unsigned value through.
 */
export const standardWebhooks: Provider = {
  defaultToleranceMs: 300_000,
  key(secret) {
    const raw = secret.startsWith("whsec_") ? secret.slice(6) : secret;
    return base64ToBytes(raw) ?? utf8(secret);
  },
  async verify(req, keys, cfg) {
    const present = FAMILIES.filter((f) => req.headers.has(f.id) || req.headers.has(f.timestamp) || req.headers.has(f.signature));
    if (present.length === 0) {
      return "missing webhook-id, webhook-timestamp and webhook-signature (or Svix's svix-id, svix-timestamp and svix-signature): sign the delivery with the endpoint's whsec_ secret";
    }
    const reasons: string[] = [];
    for (const f of present) {
      const why = await verifyFamily(req, keys, cfg.toleranceMs, f);
      if (why === null) {
        verifiedFamily.set(req, f);
        return null;
      }
      reasons.push(why);
    }
    return reasons.join("; ");
  },
  async describe(req, json, cfg) {
    const f = verifiedFamily.get(req) ?? FAMILIES[0]!;
    const p = (json ?? {}) as Json;
    const kind = typeof p.type === "string" && p.type ? p.type : "event";
    const time = unixToIso(req.headers.get(f.timestamp));
    return {
      type: `${cfg.typePrefix ?? "com.standardwebhooks"}.${kind}`,
      id: req.headers.get(f.id)!,
      source: cfg.eventSource,
      ...(time ? { time } : {}),
    };
  },
};
