import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { redactUrl, redactUrlsIn, secretLooking } from "../../core/redact.js";

describe("redactUrl", () => {
  it("hides a Slack webhook's token and keeps where it points", () => {
    expect(redactUrl("https://hooks.slack.com/services/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"))
      .toBe("https://hooks.slack.com/services/T0001ABCD/B0001EFGH/[redacted]");
  });

  it("hides a Discord webhook's token but keeps its numeric id", () => {
    const token = "aBcD1234efGH5678ijKL9012mnOP3456qrST7890uvWX1234yzAB5678cdEF9012ghIJ";
    expect(redactUrl(`https://discord.com/api/webhooks/123456789012345678/${token}`))
      .toBe("https://discord.com/api/webhooks/123456789012345678/[redacted]");
  });

  it("hides the query, the fragment and user info, saying they were there", () => {
    expect(redactUrl("http://user:pw@127.0.0.1:9090/hook?token=s3cr3t&x=1#frag")).toBe("http://[redacted]@127.0.0.1:9090/hook?[redacted]#[redacted]");
    expect(redactUrl("https://orders.example.com/events")).toBe("https://orders.example.com/events");
    expect(redactUrl("https://orders.example.com/")).toBe("https://orders.example.com/");
  });

  it("hides UUIDs, hex keys and long segments; keeps words and short ids", () => {
    expect(redactUrl("https://x.example/h/3f2c9a4e-1b7d-4c1e-9a1f-2b3c4d5e6f70/v1")).toBe("https://x.example/h/[redacted]/v1");
    expect(redactUrl(`https://x.example/${"ab12".repeat(8)}`)).toBe("https://x.example/[redacted]");
    expect(redactUrl(`https://x.example/${"a".repeat(32)}`)).toBe("https://x.example/[redacted]");
    expect(redactUrl("https://x.example/subscriptions-events-handler/v2/42")).toBe("https://x.example/subscriptions-events-handler/v2/42");
    expect(redactUrl("https://x.example/XXXXXXXXXXXXXXXXXXXXXXXX")).toBe("https://x.example/XXXXXXXXXXXXXXXXXXXXXXXX");
  });

  it("judges percent-encoded segments by their text", () => {
    expect(secretLooking("abc%31%32%33defghijklmnop")).toBe(true);
    expect(secretLooking("%E0%A4%A")).toBe(false);
  });

  it("does not echo what it cannot parse", () => {
    expect(redactUrl("not a url with secret-token-1234567890")).toBe("[redacted URL]");
    expect(redactUrl("mailto:someone@example.com")).toBe("mailto:[redacted]");
  });

  it("keeps scheme, host and the number of path segments of any URL, and never its query", () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/);
    fc.assert(fc.property(fc.constantFrom("http", "https"), fc.domain(), fc.array(segment, { maxLength: 6 }), fc.stringMatching(/^[a-z0-9]{1,20}$/), (scheme, host, segs, q) => {
      const url = `${scheme}://${host}/${segs.join("/")}?k=${q}`;
      const out = redactUrl(url);
      const u = new URL(url);
      expect(out.startsWith(`${scheme}://${u.host}/`)).toBe(true);
      expect(out).not.toContain(`k=${q}`);
      expect(out.split("?")[0]!.split("/").length).toBe(url.split("?")[0]!.split("/").length);
    }), { seed: 22, numRuns: 300 });
  });
});

describe("redactUrlsIn", () => {
  it("redacts every URL of a message and keeps the prose around it", () => {
    const text = "3 attempt(s) to https://hooks.slack.com/services/T1/B2/abcdefgh12345678abcdefgh failed; last: see http://a.example/x?sig=1.";
    expect(redactUrlsIn(text)).toBe("3 attempt(s) to https://hooks.slack.com/services/T1/B2/[redacted] failed; last: see http://a.example/x?[redacted].");
    expect(redactUrlsIn("no url here")).toBe("no url here");
  });
});

describe("log lines", () => {
  it("carry no secret URL in any string field", async () => {
    const { log } = await import("../../core/log.js");
    const lines: string[] = [];
    const orig = console.warn;
    console.warn = (l: string) => void lines.push(l);
    try {
      log.warn("delivery attempt failed", { dest: "https://hooks.slack.com/services/T1/B2/xJ4d9s8aB7c6D5e4F3g2H1i0", status: 500, error: "see https://a.example/x?token=abc" });
    } finally {
      console.warn = orig;
    }
    expect(JSON.parse(lines[0]!)).toEqual({ level: "warn", msg: "delivery attempt failed", dest: "https://hooks.slack.com/services/T1/B2/[redacted]", status: 500, error: "see https://a.example/x?[redacted]" });
  });
});
