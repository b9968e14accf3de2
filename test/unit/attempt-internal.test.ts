// An attempt to an address served in-process by the Worker (an internal target without an object)
// keeps the route's timeout like any HTTP attempt: nothing aborts the handler, so the attempt
// stops waiting for it.
import { describe, expect, it } from "vitest";
import { attempt } from "../../core/delivery/attempt.js";

describe("attempt to an in-process address", () => {
  it("ends at the route's timeout when the handler never answers", async () => {
    const t0 = Date.now();
    const o = await attempt(
      { id: 1, gen: 1, hop: "subscriber", url: "http://eddy.internal/requestreplies/ns/rr", internal: true, format: "binary", timeoutMs: 50, namespace: "ns" },
      { attrs: { specversion: "1.0", id: "x", source: "/s", type: "t" } },
      { maxReplyBytes: 1024, internal: () => new Promise<Response>(() => {}) },
    );
    expect(o).toMatchObject({ ok: false, error: "dispatch error: no answer within 50 ms" });
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("classifies what the handler answers in time as any answer", async () => {
    const o = await attempt(
      { id: 1, gen: 1, hop: "subscriber", url: "http://eddy.internal/x", internal: true, format: "binary", timeoutMs: 1000, namespace: "ns" },
      { attrs: { specversion: "1.0", id: "x", source: "/s", type: "t" } },
      { maxReplyBytes: 1024, internal: async () => new Response(null, { status: 503 }) },
    );
    expect(o).toMatchObject({ ok: false, status: 503 });
  });
});
