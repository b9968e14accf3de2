// Issue 15, finding 1: every change a client can observe, status included, gets a new resourceVersion.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { apply, brokerObj, ORIGIN, triggerObj, uid } from "./helpers.js";

const AUTH = { Authorization: "Bearer test-token" };
const V1 = `${ORIGIN}/apis/eventing.knative.dev/v1`;

async function get(ns: string, plural: string, name: string): Promise<any> {
  const r = await SELF.fetch(`${V1}/namespaces/${ns}/${plural}/${name}`, { headers: AUTH });
  expect(r.status).toBe(200);
  return r.json();
}

const ready = (o: any) => o.status?.conditions?.find((c: any) => c.type === "Ready")?.status;

describe("resourceVersion", () => {
  it("moves when only the status changes: a Trigger turning Ready when its Broker appears", async () => {
    const ns = uid("rv");
    const before = await apply(triggerObj(ns, "t", "b", "http://127.0.0.1:9/"), "triggers");
    expect(ready(before)).toBe("False");
    await apply(brokerObj(ns, "b"), "brokers");
    const after = await get(ns, "triggers", "t");
    expect(ready(after)).toBe("True");
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion));
  });

  it("is unique per stored state: no two observed versions of different objects share one", async () => {
    const ns = uid("rv");
    const t = await apply(triggerObj(ns, "t", "b", "http://127.0.0.1:9/"), "triggers");
    const b = await apply(brokerObj(ns, "b"), "brokers");
    const t2 = await get(ns, "triggers", "t");
    const rvs = [t.metadata.resourceVersion, b.metadata.resourceVersion, t2.metadata.resourceVersion];
    expect(new Set(rvs).size).toBe(3);
    const list = await (await SELF.fetch(`${V1}/namespaces/${ns}/triggers`, { headers: AUTH })).json() as any;
    // The list's version is at least every item's: watching from it misses nothing already listed.
    expect(Number(list.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(t2.metadata.resourceVersion));
  });
});
