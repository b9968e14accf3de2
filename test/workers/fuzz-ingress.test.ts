// Property-based fuzzing of every ingress route inside workerd (issue #8): random and adversarial
// methods, paths, headers, content types and bodies. Fixed seed; FUZZ_RUNS sets the runs.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bodies, contentType, extraHeaders, method, segment } from "./fuzz/arbitraries.js";
import { acceptedBy, AUTH, expectExplained, fixture, fuzz, MAX_EVENT_BYTES, request, RUNS, send, stillDelivers, TIMEOUT } from "./fuzz/support.js";

const PREFIXES = ["/brokers", "/channels", "/inmemorychannels", "/sequences", "/parallels"];

describe("ingress fuzzing", () => {
  it(`answers ${RUNS} adversarial requests without a 5xx, explains every 4xx, and stores nothing it refuses`, async () => {
    const fx = await fixture();
    const total = async () => (await Promise.all(fx.targets.map((t) => acceptedBy(t.binding, t.name)))).reduce((a, b) => a + b, 0);
    let stored = 0;

    const target = fc.oneof(
      // Most requests go to a real addressable, so they reach the codec and the Durable Object.
      { weight: 6, arbitrary: fc.record({ at: fc.nat({ max: fx.targets.length - 1 }), tail: fc.oneof({ weight: 8, arbitrary: fc.constant("") }, { weight: 2, arbitrary: fc.constantFrom("/", "//", "/steps/0", "/branches/0", "/steps/x", "/branches/99999999999999999999") }) }).map(({ at, tail }) => fx.targets[at]!.path + tail) },
      { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...PREFIXES), fc.array(segment, { minLength: 0, maxLength: 4 })).map(([p, segs]) => [p, ...segs].join("/")) },
      { weight: 1, arbitrary: fc.constantFrom("/", "/brokers", "/brokers/", `/brokers/${fx.ns}`, "/BROKERS/x/y", "/brokers/%zz/%E2", "/healthz", "/webhooks") },
    );
    const attrs = fc.record({ specversion: fc.constantFrom("1.0", "0.3"), id: fc.uuid(), source: fc.constant("/fuzz"), type: fc.constant("fuzz.event") });
    const cases = fc.record({
      method,
      path: target,
      contentType: fc.option(contentType, { nil: undefined }),
      binary: fc.option(attrs, { nil: undefined }),
      headers: extraHeaders,
      body: bodies(MAX_EVENT_BYTES),
      stream: fc.boolean(), // without Content-Length, the size limit is enforced while reading
    });

    let sent = 0;
    const counts = new Map<number, number>();
    const ran = await fuzz(cases, async (c) => {
      // A sender's credentials (needed where ingress authentication is on); the generated headers may replace them.
      const headers = new Headers(AUTH);
      try {
        if (c.binary) for (const [k, v] of Object.entries(c.binary)) headers.set(`ce-${k}`, v);
        for (const [k, v] of Object.entries(c.headers)) headers.set(k, v);
        if (c.contentType !== undefined) headers.set("content-type", c.contentType);
      } catch {
        return; // Fetch refuses the header itself
      }
      const withBody = c.method !== "GET" && c.method !== "HEAD";
      const body = !withBody ? undefined : c.stream ? new Blob([c.body]).stream() : c.body;
      const req = request(c.path, { method: c.method, headers, body, ...(c.stream && withBody ? { duplex: "half" } : {}) } as RequestInit);
      if (!req) return;
      // Measured per run, not carried over: shrinking replays runs out of order.
      const before = await total();
      const a = await send(req);
      sent++;
      counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
      const what = `${c.method} ${c.path} (${c.contentType ?? "no type"}, ${c.body.length} bytes)`;
      expectExplained(what, c.method, a, false);
      if (withBody && c.body.length > MAX_EVENT_BYTES && c.method === "POST" && a.status !== 404 && a.status !== 405) expect(a.status, what).toBe(413);
      const after = await total();
      if (a.status >= 300) expect(after, `${what} was refused with ${a.status} but stored events`).toBe(before);
      stored += after - before;
    }, () => stillDelivers(fx));

    expect(ran).toBe(RUNS);
    // The generators must reach both sides: events accepted and events refused, on real addressables.
    expect(sent).toBeGreaterThan(RUNS * 0.8);
    expect(counts.get(202) ?? 0, JSON.stringify([...counts])).toBeGreaterThan(0);
    expect(counts.get(400) ?? 0, JSON.stringify([...counts])).toBeGreaterThan(0);
    expect(stored).toBeGreaterThan(0);
  }, TIMEOUT);
});
