import { createExecutionContext, createScheduledController, env, runDurableObjectAlarm, runInDurableObject, SELF, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../functions/index.js";
import type { Source } from "../../durable-objects/source.js";
import { apply, decode, ORIGIN, SINK, sinkLog, uid, waitLog } from "./helpers.js";

const ping = (ns: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: "sources.knative.dev/v1", kind: "PingSource", metadata: { name, namespace: ns }, spec });
const source = (key: string): DurableObjectStub<Source> => env.SOURCE.get(env.SOURCE.idFromName(key));

describe("PingSource data plane", () => {
  it("fires a due tick from the alarm, once, with the configured data", async () => {
    const ns = uid("ns");
    const k = uid();
    await apply(ping(ns, "p", { schedule: "10 0/1 * * * ?", contentType: "text/plain", dataBase64: "aGVsbG8sIHdvcmxkIQ==", sink: { uri: `${SINK}/ok/${k}` } }), "pingsources");
    const stub = source(`PingSource/${ns}/p`);
    const next = await runInDurableObject(stub, (_s, state) => Number(state.storage.sql.exec("SELECT value FROM config WHERE key = 'next_tick'").one().value));
    expect(new Date(next).getUTCSeconds()).toBe(10);
    // Pretend the tick is due now, then let the alarm run.
    await runInDurableObject(stub, (_s, state) => state.storage.sql.exec("UPDATE config SET value = ? WHERE key = 'next_tick'", String(Date.now() - 1)));
    // The alarm may already have run by itself at its time; either way the due tick must arrive once.
    await runDurableObjectAlarm(stub);
    const [got] = await waitLog(k, 1);
    expect(got!.headers).toMatchObject({ "ce-type": "dev.knative.sources.ping", "ce-source": `/apis/v1/namespaces/${ns}/pingsources/p`, "content-type": "text/plain" });
    expect(decode(got!.body)).toBe("hello, world!");
    const again = await runInDurableObject(stub, async (s, state) => s.fire(Number(state.storage.sql.exec("SELECT value FROM config WHERE key = 'last_tick'").one().value)));
    expect(again).toBe(false);
  });

  it("the per-minute Cron Trigger fires minute schedules through the Scheduler, each tick once", async () => {
    const ns = uid("ns");
    const k = uid();
    await apply(ping(ns, "m", { schedule: "* * * * *", data: "minute", sink: { uri: `${SINK}/ok/${k}` } }), "pingsources");
    const minute = Math.floor(Date.now() / 60_000) * 60_000 + 120_000;
    for (let i = 0; i < 2; i++) {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ scheduledTime: minute, cron: "* * * * *" }), env);
      await waitOnExecutionContext(ctx);
    }
    const [got] = await waitLog(k, 1);
    expect(got!.headers["ce-time"]).toBe(new Date(minute).toISOString());
    await new Promise((r) => setTimeout(r, 300));
    expect(await sinkLog(k)).toHaveLength(1);
  });
});

describe("WebhookSource data plane", () => {
  it("stores nothing for a rejected delivery and drops a redelivered id", async () => {
    const ns = uid("ns");
    const k = uid();
    await apply({
      apiVersion: "sources.eddy.dev/v1alpha1", kind: "WebhookSource", metadata: { name: "w", namespace: ns },
      spec: { provider: "generic-hmac", secrets: ["ADMIN_TOKEN"], genericHmac: { header: "X-Sig", idHeader: "X-Id" }, sink: { uri: `${SINK}/ok/${k}` } },
    }, "webhooksources");
    const body = '{"n":1}';
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("test-token"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const sig = [...new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)))].map((b) => b.toString(16).padStart(2, "0")).join("");
    const send = (s: string) => SELF.fetch(`${ORIGIN}/webhooks/${ns}/w`, { method: "POST", headers: { "X-Sig": s, "X-Id": "delivery-1", "Content-Type": "application/json" }, body });
    expect((await send("00")).status).toBe(401);
    const stub = source(`WebhookSource/${ns}/w`);
    expect(await runInDurableObject(stub, (_s, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM batches").one().n)).toBe(0);
    expect((await send(sig)).status).toBe(202);
    expect((await send(sig)).status).toBe(202);
    await waitLog(k, 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(await sinkLog(k)).toHaveLength(1);
    const counters = (await stub.stats())!.counters;
    expect(counters).toMatchObject({ "rejected.401": 1, "dropped.duplicate": 1, delivered: 1 });
  });
});
