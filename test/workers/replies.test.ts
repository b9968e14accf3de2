// Replies re-enter the Broker inside its Durable Object (no ingress hop), so the Broker itself
// registers their EventTypes and counts them under `replies` in /stats.
import { describe, expect, it } from "vitest";
import { apply, brokerObj, getJson, send, SINK, stats, triggerObj, uid, waitLog } from "./helpers.js";

describe("replies at a Broker", () => {
  it("get an EventType like published events, and are counted under replies beside accepted", async () => {
    const ns = uid("ns");
    await apply(brokerObj(ns, "default"), "brokers");
    const kOrig = uid();
    const kReply = uid();
    await apply(triggerObj(ns, "origin", "default", `${SINK}/reply/com.example.only-as-reply/${kOrig}`, { filter: { attributes: { type: "com.example.start" } } }), "triggers");
    await apply(triggerObj(ns, "second", "default", `${SINK}/ok/${kReply}`, { filter: { attributes: { type: "com.example.only-as-reply" } } }), "triggers");
    expect((await send(ns, "default", { specversion: "1.0", id: "s1", source: "/producer", type: "com.example.start" })).status).toBe(202);
    await waitLog(kReply, 1);

    await expect.poll(async () => (await stats(ns, "default")).counters).toMatchObject({ accepted: 1, replies: 1, delivered: 2 });
    const typesSeen = async () => {
      const list = await getJson(`/apis/eventing.knative.dev/v1beta3/namespaces/${ns}/eventtypes`);
      return (list.items as { spec: { reference: { kind: string; name: string }; attributes: { name: string; value?: string }[] } }[])
        .map((et) => {
          const attr = (n: string) => et.spec.attributes.find((a) => a.name === n)?.value;
          return `${et.spec.reference.kind}/${et.spec.reference.name} ${attr("type")} ${attr("source")}`;
        })
        .sort();
    };
    await expect.poll(typesSeen).toEqual([
      "Broker/default com.example.only-as-reply /sink",
      "Broker/default com.example.start /producer",
    ]);
  });

  it("a reply dropped for its TTL is still counted as a reply, and the drop says why", async () => {
    const ns = uid("ns");
    await apply(brokerObj(ns, "default"), "brokers");
    const k = uid();
    await apply(triggerObj(ns, "echo", "default", `${SINK}/reply/com.example.echo/${k}`, { filter: { attributes: { type: "com.example.echo" } } }), "triggers");
    await send(ns, "default", { specversion: "1.0", id: "l1", source: "/producer", type: "com.example.echo", knativebrokerttl: "2" });
    await expect.poll(async () => (await stats(ns, "default")).counters).toMatchObject({ accepted: 1, replies: 2, "dropped.ttl-exhausted": 1 });
  });
});
