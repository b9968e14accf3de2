import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../functions/index.js";
import type { Env } from "../../functions/env.js";
import { apply, ORIGIN, SINK, uid } from "./helpers.js";

async function call(req: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch!(req as Request<unknown, IncomingRequestCfProperties>, env as unknown as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

afterEach(() => vi.restoreAllMocks());

describe("5xx answers", () => {
  it("say only 'internal error' and a correlation id, which the log line carries with the cause", async () => {
    const ns = uid("ns");
    await apply({
      apiVersion: "sources.eddy.dev/v1alpha1", kind: "WebhookSource", metadata: { name: "gh", namespace: ns },
      spec: { provider: "github", secrets: ["SECRET_NEVER_SET"], sink: { uri: `${SINK}/ok/${uid()}` } },
    }, "webhooksources");
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((l: unknown) => void lines.push(String(l)));
    const res = await call(new Request(`${ORIGIN}/webhooks/${ns}/gh`, { method: "POST", headers: { "X-GitHub-Event": "push" }, body: "{}" }));
    const text = await res.text();
    expect(res.status).toBe(503);
    const id = res.headers.get("x-correlation-id")!;
    expect(text).toBe(`internal error; the server's log has the cause under correlationId ${id}\n`);
    expect(text).not.toContain("SECRET_NEVER_SET");
    const line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.correlationId === id);
    expect(line).toMatchObject({ level: "error", status: 503, path: `/webhooks/${ns}/gh`, error: expect.stringContaining("status.missingSecrets") });
  });
});
