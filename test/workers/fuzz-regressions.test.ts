// Plain regression examples for what the HTTP fuzz suites found inside workerd.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { apply, brokerObj, ORIGIN, uid } from "./helpers.js";

const AUTH = { Authorization: "Bearer test-token" };
const brokers = (ns: string) => `${ORIGIN}/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers`;

async function version(ns: string): Promise<string> {
  const r = await SELF.fetch(brokers(ns), { headers: AUTH });
  return ((await r.json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
}

describe("a refused write stores nothing", () => {
  // Found by fuzz-api: the namespace took the next resourceVersion before admission, so every
  // 400, 409 and 422 moved (and persisted) it, as if something had been written.
  it("leaves the namespace's resourceVersion where it was on 400, 409 and 422", async () => {
    const ns = uid("ns");
    await apply(brokerObj(ns, "default"), "brokers");
    const start = await version(ns);
    const refusals: [string, string, unknown, number][] = [
      ["PUT", `${brokers(ns)}/b`, { apiVersion: [{}], metadata: { name: "b" } }, 400],
      ["PUT", `${brokers(ns)}/b`, { metadata: { name: "b" }, spec: { delivery: { retry: -1 } } }, 422],
      ["POST", brokers(ns), { metadata: { name: "Bad_Name" } }, 422],
      ["PUT", `${brokers(ns)}/b`, { kind: "Trigger", metadata: { name: "b" } }, 400],
    ];
    for (const [method, url, body, status] of refusals) {
      const r = await SELF.fetch(url, { method, headers: { ...AUTH, "Content-Type": "application/json" }, body: JSON.stringify(body) });
      expect(r.status, await r.text()).toBe(status);
    }
    expect(await version(ns)).toBe(start);
    const ok = await SELF.fetch(`${brokers(ns)}/b`, { method: "PUT", headers: { ...AUTH, "Content-Type": "application/json" }, body: JSON.stringify({ metadata: { name: "b" } }) });
    expect(ok.status).toBe(201);
    const made = (await ok.json()) as { metadata: { resourceVersion: string } };
    expect(Number(made.metadata.resourceVersion)).toBeGreaterThan(Number(start)); // an accepted write does move it
  });

  it("leaves it on a POST that names an existing object (409)", async () => {
    const ns = uid("ns");
    await apply(brokerObj(ns, "default"), "brokers");
    const start = await version(ns);
    const r = await SELF.fetch(brokers(ns), { method: "POST", headers: { ...AUTH, "Content-Type": "application/json" }, body: JSON.stringify(brokerObj(ns, "default")) });
    expect(r.status).toBe(409);
    expect(await version(ns)).toBe(start);
  });
});

describe("YAML tags that JSON cannot carry", () => {
  // Found by fuzz-api with FUZZ_RUNS=2000: 500 "Cannot delete property '0' of [object Uint8Array]".
  it("answers 400, not 500, for a !!binary manifest and for a !!set spec", async () => {
    const ns = uid("ns");
    for (const body of ["--- !!binary aGVsbG8=\n", "metadata: {name: t}\nspec: !!set {a, b}\n"]) {
      const r = await SELF.fetch(`${ORIGIN}/apis/eventing.knative.dev/v1/namespaces/${ns}/triggers/t`, { method: "PUT", headers: { ...AUTH, "Content-Type": "application/yaml" }, body });
      const status = (await r.json()) as { message: string };
      expect(r.status, status.message).toBe(400);
      expect(status.message).toContain("a manifest holds only what JSON can");
    }
  });
});
