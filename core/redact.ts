/**
 * How URLs appear where people other than their owner read them: log lines, drop details, the
 * `knativeerrordest` extension a dead-letter sink receives. Subscriber URLs often carry their secret
 * (Slack's and Discord's webhooks keep it in the path, others in the query), so a URL keeps what
 * says where it points — scheme, host, port and the shape of its path — and loses the rest:
 *
 * - user info, the query and the fragment become `[redacted]` (present or not stays visible);
 * - a path segment that looks like a secret becomes `[redacted]`: at least 16 characters mixing two
 *   of lower case, upper case and digits (tokens, keys, UUIDs), or at least 32 characters of any kind;
 * - anything that does not parse as an absolute URL is `[redacted URL]`.
 *
 * Short words, numbers and ids (`/api/webhooks/123456789012345678`) stay as they are, so a reader
 * can still tell which endpoint failed. docs/security.md states the same rule.
 *
 * @example
 * redactUrl("https://hooks.slack.com/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX?x=1");
 * // "https://hooks.slack.com/services/T0001/B0001/[redacted]?[redacted]"
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return REDACTED_URL;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return `${u.protocol}${REDACTED}`;
  const user = u.username || u.password ? `${REDACTED}@` : "";
  const path = u.pathname.split("/").map((s) => (secretLooking(s) ? REDACTED : s)).join("/");
  return `${u.protocol}//${user}${u.host}${path}${u.search ? `?${REDACTED}` : ""}${u.hash ? `#${REDACTED}` : ""}`;
}

export const REDACTED = "[redacted]";
const REDACTED_URL = "[redacted URL]";

/** Whether one (still percent-encoded) path segment looks like a secret by the rule above. */
export function secretLooking(segment: string): boolean {
  let s = segment;
  try {
    s = decodeURIComponent(segment);
  } catch {
    // a malformed escape: judge the raw text
  }
  if (s.length >= 32) return true;
  if (s.length < 16) return false;
  return [/[a-z]/, /[A-Z]/, /[0-9]/].filter((r) => r.test(s)).length >= 2;
}

// Absolute http(s) URLs inside free text: up to whitespace, quotes or brackets that end them in prose.
const URL_IN_TEXT = /https?:\/\/[^\s"'<>`]+/gi;

/**
 * Free text (an error message, a drop's detail) with every http(s) URL in it redacted by
 * `redactUrl`; the rest of the text is kept.
 *
 * @example
 * redactUrlsIn("3 attempt(s) to https://x.example/h?token=abc failed"); // "3 attempt(s) to https://x.example/h?[redacted] failed"
 */
export function redactUrlsIn(text: string): string {
  return text.replace(URL_IN_TEXT, (m) => {
    // Prose punctuation right after a URL belongs to the sentence.
    const tail = /[.,;:!)\]]+$/.exec(m)?.[0] ?? "";
    return redactUrl(m.slice(0, m.length - tail.length)) + tail;
  });
}
