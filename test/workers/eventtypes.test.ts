// EventTypes bounded: an owner gets at most EVENTTYPE_AUTO_CREATE_LIMIT (12 in these tests)
// auto-created EventTypes; a producer varying `source` cannot grow the namespace past it.
import { afterEach, describe, expect, it, vi } from "vitest";
import { apply, brokerObj, getJson, send, stats, uid } from "./helpers.js";

afterEach(() => vi.restoreAllMocks());

describe("auto-created EventTypes", () => {
  it("stop at the per-owner limit, which is logged and counted in the owner's stats", async () => {
    const ns = uid("ns");
    await apply(brokerObj(ns, "default"), "brokers");
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((l: unknown) => void lines.push(String(l)));
    for (let i = 0; i < 20; i++) expect((await send(ns, "default", { specversion: "1.0", id: `e${i}`, source: `/s/${i}`, type: "t" })).status).toBe(202);
    const count = async () => (await getJson(`/apis/eventing.knative.dev/v1beta3/namespaces/${ns}/eventtypes`)).items.length as number;
    await expect.poll(count).toBe(12);
    await expect.poll(() => lines.some((l) => l.includes("EventType auto-creation limit reached") && l.includes(`"owner":"Broker/default"`) && l.includes('"limit":12'))).toBe(true);
    await expect.poll(async () => (await stats(ns, "default")).counters["eventtypes.capped"] ?? 0).toBeGreaterThanOrEqual(8);
    // Still 12 after more new sources.
    for (let i = 20; i < 25; i++) await send(ns, "default", { specversion: "1.0", id: `e${i}`, source: `/s/${i}`, type: "t" });
    expect(await count()).toBe(12);
  });
});
