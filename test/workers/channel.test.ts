import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Channel } from "../../durable-objects/channel.js";
import { apply, AUTH, decode, ORIGIN, SINK, sinkLog, uid, waitLog } from "./helpers.js";
import { SELF } from "cloudflare:test";

const M = "messaging.knative.dev/v1";
const imc = (ns: string, name: string, spec: Record<string, unknown> = {}) => ({ apiVersion: M, kind: "InMemoryChannel", metadata: { name, namespace: ns }, spec });
const sub = (ns: string, name: string, ch: string, spec: Record<string, unknown>) => ({
  apiVersion: M, kind: "Subscription", metadata: { name, namespace: ns }, spec: { channel: { apiVersion: M, kind: "InMemoryChannel", name: ch }, ...spec },
});
const stub = (ns: string, name: string): DurableObjectStub<Channel> => env.CHANNEL.get(env.CHANNEL.idFromName(`InMemoryChannel/${ns}/${name}`));

describe("Channel Durable Object", () => {
  it("gives every Subscription every event, unchanged, each with its own delivery", async () => {
    const ns = uid("ns");
    const [a, b] = [uid(), uid()];
    await apply(imc(ns, "c"), "inmemorychannels");
    await apply(sub(ns, "a", "c", { subscriber: { uri: `${SINK}/ok/${a}` } }), "subscriptions");
    await apply(sub(ns, "b", "c", { subscriber: { uri: `${SINK}/fail/1/500/${b}` }, delivery: { retry: 1 } }), "subscriptions");
    const rows = await runInDurableObject(stub(ns, "c"), async (ch, state) => {
      await ch.publish([{ attrs: { specversion: "0.3", id: "c1", source: "/s", type: "t", schemaurl: "http://x/" } }]);
      return state.storage.sql.exec<{ dels: string }>("SELECT dels FROM batches").toArray().map((b) => (JSON.parse(b.dels) as unknown[]).length);
    });
    expect(rows).toEqual([2]); // one batch row owes both deliveries

    const [got] = await waitLog(a, 1);
    expect(got!.headers).toMatchObject({ "ce-specversion": "0.3", "ce-schemaurl": "http://x/" });
    expect(got!.headers["ce-knativearrivaltime"]).toBeUndefined();
    await waitLog(b, 2);
  });

  it("keeps an event's batch row while any of its deliveries is pending, and deletes it with the last one", async () => {
    const ns = uid("ns");
    const [a, b, c] = [uid(), uid(), uid()];
    await apply(imc(ns, "c"), "inmemorychannels");
    await apply(sub(ns, "a", "c", { subscriber: { uri: `${SINK}/ok/${a}` } }), "subscriptions");
    await apply(sub(ns, "b", "c", { subscriber: { uri: `${SINK}/ok/${b}` } }), "subscriptions");
    // The third subscriber answers only after the other deliveries of both events are settled.
    await apply(sub(ns, "s", "c", { subscriber: { uri: `${SINK}/slow/3000/${c}` } }), "subscriptions");
    const counts = () => runInDurableObject(stub(ns, "c"), async (ch, state) => ({
      events: state.storage.sql.exec<{ events: string }>("SELECT events FROM batches").toArray().reduce((n, b) => n + (JSON.parse(b.events) as unknown[]).length, 0),
      pending: (await ch.stats())!.pending,
    }));
    for (const id of ["k1", "k2"]) {
      const r = await SELF.fetch(`${ORIGIN}/inmemorychannels/${ns}/c`, {
        method: "POST", headers: { ...AUTH, "Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": id, "ce-source": "/s", "ce-type": "t" }, body: "{}",
      });
      expect(r.status).toBe(202);
    }
    await waitLog(a, 2);
    await waitLog(b, 2);
    const until = Date.now() + 10_000;
    while ((await counts()).pending > 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(await counts()).toEqual({ events: 2, pending: 2 });
    await waitLog(c, 2);
    while ((await counts()).pending > 0 && Date.now() < until + 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(await counts()).toEqual({ events: 0, pending: 0 });
  });

  it("forwards a reply through the Subscription's reply, and dead-letters the original when that hop fails", async () => {
    const ns = uid("ns");
    const [s, r, d] = [uid(), uid(), uid()];
    const replyUrl = `${SINK}/status/503/${r}`;
    await apply(imc(ns, "c"), "inmemorychannels");
    await apply(sub(ns, "s", "c", {
      subscriber: { uri: `${SINK}/reply/com.example.reply/${s}` }, reply: { uri: replyUrl },
      delivery: { retry: 1, deadLetterSink: { uri: `${SINK}/ok/${d}` } },
    }), "subscriptions");
    const res = await SELF.fetch(`${ORIGIN}/inmemorychannels/${ns}/c`, {
      method: "POST", headers: { ...AUTH, "ce-specversion": "1.0", "ce-id": "orig", "ce-source": "/s", "ce-type": "t", "Content-Type": "text/plain" }, body: "payload",
    });
    expect(res.status).toBe(202);
    const [dead] = await waitLog(d, 1);
    expect(dead!.headers).toMatchObject({ "ce-id": "orig", "ce-knativeerrordest": replyUrl, "ce-knativeerrorcode": "503" });
    expect(decode(dead!.body)).toBe("payload");
    expect((await sinkLog(r)).map((x) => x.headers["ce-type"])).toEqual(["com.example.reply", "com.example.reply"]);
    expect(await sinkLog(s)).toHaveLength(1);
  });
});
