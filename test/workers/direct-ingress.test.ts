// Events posted to a Broker or channel are answered without the router (functions/ingress/direct.ts);
// a path the router has to percent-decode still goes through it. Both must answer alike.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { apply, AUTH, brokerObj, ORIGIN, triggerObj, SINK, uid, waitLog } from "./helpers.js";

/** The same address with its last letter percent-encoded: the router decodes it back. */
function encoded(path: string): string {
  const i = path.replace(/\/$/, "").length - 1;
  return `${path.slice(0, i)}%${path.charCodeAt(i).toString(16).toUpperCase()}${path.slice(i + 1)}`;
}

async function answer(path: string, init: RequestInit): Promise<{ status: number; type: string | null; challenge: string | null; allow: string | null; body: string }> {
  const r = await SELF.fetch(`${ORIGIN}${path}`, init);
  return { status: r.status, type: r.headers.get("content-type"), challenge: r.headers.get("www-authenticate"), allow: r.headers.get("allow"), body: await r.text() };
}

describe("direct ingress", () => {
  it("answers like the routed ingress: 202, 400, 401, 404, and a trailing slash", async () => {
    const ns = uid("ns");
    const k = uid();
    await apply(brokerObj(ns, "default"), "brokers");
    await apply(triggerObj(ns, "t", "default", `${SINK}/ok/${k}`), "triggers");
    const event = (id: string) => ({ ...AUTH, "Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": id, "ce-source": "/s", "ce-type": "t" });
    const cases: [string, RequestInit][] = [
      [`/brokers/${ns}/default`, { method: "POST", headers: event("e1"), body: "{}" }],
      [`/brokers/${ns}/default/`, { method: "POST", headers: event("e2"), body: "{}" }],
      [`/brokers/${ns}/default`, { method: "POST", headers: { ...AUTH, "Content-Type": "application/json", "ce-specversion": "1.0" }, body: "{}" }],
      [`/brokers/${ns}/default`, { method: "POST", headers: { ...event("e3"), Authorization: "Bearer nope" }, body: "{}" }],
      [`/brokers/${ns}/missing`, { method: "POST", headers: event("e4"), body: "{}" }],
      [`/channels/${ns}/missing`, { method: "POST", headers: event("e5"), body: "{}" }],
      [`/inmemorychannels/${ns}/missing?x=1`, { method: "POST", headers: event("e6"), body: "{}" }],
    ];
    for (const [path, init] of cases) {
      const direct = await answer(path, init);
      const [p, q] = path.split("?");
      const routed = await answer(encoded(p!) + (q ? `?${q}` : ""), init);
      expect(routed, path).toEqual(direct);
    }
    // Both e1 and e2 arrived twice (once per way in), under one id each.
    const log = await waitLog(k, 4);
    expect(log.map((r) => r.headers["ce-id"]).sort()).toEqual(["e1", "e1", "e2", "e2"]);
  });
});
