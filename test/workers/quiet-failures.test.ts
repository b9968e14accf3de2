import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../functions/index.js";
import type { Env } from "../../functions/env.js";
import { apply, brokerObj, getJson, ORIGIN, SINK, triggerObj, uid } from "./helpers.js";

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

describe("DESTINATION_POLICY", () => {
  it("keeps a Trigger to a private address from Ready, naming the setting; loopback is allowed here (public-and-loopback)", async () => {
    const ns = uid("ns");
    await apply(brokerObj(ns, "default"), "brokers");
    await apply(triggerObj(ns, "private", "default", "http://10.1.2.3/hook?token=s3cr3t"), "triggers");
    await apply(triggerObj(ns, "local", "default", `${SINK}/ok/${uid()}`), "triggers");
    const ready = async (name: string) => (await getJson(`/apis/eventing.knative.dev/v1/namespaces/${ns}/triggers/${name}`)).status.conditions.find((c: { type: string }) => c.type === "Ready");
    const refused = await ready("private");
    expect(refused.status).toBe("False");
    expect(refused.message).toContain("is a private address, which DESTINATION_POLICY=public-and-loopback refuses");
    expect(refused.message).not.toContain("s3cr3t");
    expect((await ready("local")).status).toBe("True");
  });
});
