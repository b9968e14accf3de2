// The stubs of placed owners (durable-objects/objects.ts): Cloudflare's API as it is, and what
// workerd does with it, which has no jurisdictions and ignores location hints.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { dataPlaneStub, partitionRef, placedOwner } from "../../durable-objects/objects.js";
import { apply, brokerObj, uid } from "./helpers.js";

/** A namespace binding as Cloudflare's API has it, recording what each stub was asked for. */
function recordingNamespace(opts: { jurisdictions: boolean }) {
  const calls: string[] = [];
  const make = (j?: string): any => ({
    jurisdiction(x: string) {
      if (!opts.jurisdictions) throw new Error("Jurisdiction restrictions are not implemented in workerd.");
      calls.push(`jurisdiction(${x})`);
      return make(x);
    },
    idFromName: (name: string) => ({ name, j }),
    get: (id: { name: string; j?: string }, o?: { locationHint?: string }) => {
      calls.push(`get(${id.j ?? "-"}, ${id.name}${o?.locationHint ? `, ${o.locationHint}` : ""})`);
      return {};
    },
  });
  return { calls, ns: make() };
}

describe("stubs of placed objects", () => {
  it("use namespace.jurisdiction(j) and get(id, { locationHint }), for the owner and each partition", () => {
    const { calls, ns } = recordingNamespace({ jurisdictions: true });
    const owner = placedOwner("BROKER", { key: "demo/b", kind: "Broker", namespace: "demo", name: "b", uid: "u", generation: 1, routes: [], options: { auth: { audience: "eventing.knative.dev/broker/demo/b", policies: [] }, placement: { jurisdiction: "eu", locationHint: "weur" } } });
    dataPlaneStub({ BROKER: ns }, owner);
    dataPlaneStub({ BROKER: ns }, partitionRef(owner, 2));
    dataPlaneStub({ BROKER: ns }, { binding: "BROKER", name: "demo/plain" });
    dataPlaneStub({ BROKER: ns }, { binding: "BROKER", name: "demo/hinted", placement: { locationHint: "apac" } });
    expect(calls).toEqual(["jurisdiction(eu)", "get(eu, demo/b, weur)", "jurisdiction(eu)", "get(eu, demo/b#2, weur)", "get(-, demo/plain)", "get(-, demo/hinted, apac)"]);
  });
});

describe("placed objects in workerd", () => {
  it("workerd refuses jurisdictions, so a placed owner gets objects of its own there, apart from the default ones", async () => {
    expect(() => env.BROKER.jurisdiction("eu")).toThrow(/not implemented in workerd/);
    const ns = uid("pl");
    const b = brokerObj(ns, "b");
    (b.metadata as Record<string, unknown>).annotations = { "eddy.dev/jurisdiction": "eu", "eddy.dev/location-hint": "weur", "eddy.dev/partitions": "2" };
    expect((await apply(b, "brokers")).status.placement).toEqual({ jurisdiction: "eu", locationHint: "weur" });
    const placed = { binding: "BROKER" as const, name: `${ns}/b`, placement: { jurisdiction: "eu" as const, locationHint: "weur" as const } };
    expect(dataPlaneStub(env, placed).id.toString()).toBe(env.BROKER.idFromName(`eu:${ns}/b`).toString());
    await expect.poll(() => dataPlaneStub(env, placed).partitions()).toBe(2);
    await expect.poll(() => dataPlaneStub(env, partitionRef(placed, 1)).partitions()).toBe(2);
    // The default objects of that name were never configured.
    expect(await env.BROKER.get(env.BROKER.idFromName(`${ns}/b`)).partitions()).toBeNull();
  });
});
