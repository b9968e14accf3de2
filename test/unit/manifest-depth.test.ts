// Deep nesting in the control plane: manifests (JSON and YAML), admission, PingSource data.
import { describe, expect, it } from "vitest";
import { ApiError } from "../../core/errors.js";
import { MAX_FILTER_DEPTH } from "../../core/filters/index.js";
import { MAX_MANIFEST_DEPTH } from "../../core/nesting.js";
import { admit } from "../../core/resources/admit.js";
import { BrokerKind } from "../../core/resources/kinds/broker.js";
import { ADDRESSABLES } from "../../core/resources/registry.js";
import { validatePingSpec } from "../../core/sources/ping.js";
import { readManifest } from "../../functions/api/manifest.js";

const req = (body: string, type?: string) =>
  new Request("http://eddy.test/apis", { method: "PUT", body, headers: type ? { "Content-Type": type } : {} });

async function refused(body: string, type?: string): Promise<ApiError> {
  try {
    await readManifest(req(body, type));
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error("expected the manifest to be refused");
}

const broker = (spec: unknown) => ({ apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name: "b" }, spec });
/** A spec whose `x` nests `n` arrays: the manifest is n + 2 levels deep. */
const deepSpec = (n: number) => `{"apiVersion":"eventing.knative.dev/v1","kind":"Broker","metadata":{"name":"b"},"spec":{"x":${"[".repeat(n)}${"]".repeat(n)}}}`;
/** Block-style YAML nesting maps by indentation, `n` levels below the root map. */
const blockYaml = (n: number) => "apiVersion: eventing.knative.dev/v1\nkind: Broker\nspec:\n" + Array.from({ length: n }, (_, i) => `${" ".repeat(i + 1)}k${i}:`).join("\n") + " 1\n";

describe("readManifest refuses nesting deeper than MAX_MANIFEST_DEPTH", () => {
  it("accepts a JSON manifest exactly at the limit and refuses one level more, naming the byte", async () => {
    expect(await readManifest(req(deepSpec(MAX_MANIFEST_DEPTH - 2), "application/json"))).toMatchObject({ kind: "Broker" });
    const e = await refused(deepSpec(MAX_MANIFEST_DEPTH - 1), "application/json");
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/^the JSON body nests deeper than 100 levels \(level 101 opens at byte \d+\): manifests may nest objects and lists at most 100 levels deep$/);
  });

  it("refuses deep JSON sent without a content type (tried as JSON first)", async () => {
    expect((await refused(deepSpec(5000))).message).toContain("the JSON body nests deeper than 100 levels");
  });

  it("refuses 5,000 `[` of YAML with a line and column instead of a stack overflow", async () => {
    const e = await refused("[".repeat(5000), "application/yaml");
    expect(e.status).toBe(400);
    expect(e.message).toBe("the YAML body nests deeper than 100 levels (level 101 starts at line 1, column 101): manifests may nest objects and lists at most 100 levels deep");
  });

  it("refuses YAML nested by indentation and by compact sequences", async () => {
    expect((await refused(blockYaml(150), "application/yaml")).message).toMatch(/nests deeper than 100 levels \(level 101 starts at line 103, column/);
    expect((await refused(`spec:\n  x:\n    ${"- ".repeat(3000)}1\n`, "application/yaml")).message).toContain("nests deeper than 100 levels");
    expect(await readManifest(req(blockYaml(90), "application/yaml"))).toMatchObject({ kind: "Broker" });
  });

  it("refuses YAML whose aliases expand into a deep value, or into a cycle", async () => {
    // Each alias adds 30 levels; yaml caps the number of alias expansions, not their depth.
    const chain = ["- &a0 [1]", ...Array.from({ length: 5 }, (_, i) => `- &a${i + 1} ${"[".repeat(30)}*a${i}${"]".repeat(30)}`)].join("\n");
    expect((await refused(`spec:\n  x:\n${chain.replace(/^/gm, "  ")}\n`, "application/yaml")).message).toMatch(/once its aliases are expanded \(at spec\.x\[\d+\]/);
    expect((await refused("spec: &s\n  again: *s\n", "application/yaml")).message).toContain("an alias refers to a node that contains it");
  });

  it("refuses a YAML 'billion laughs' with 400 instead of an internal error", async () => {
    const lol = ["a: &a [x,x,x,x,x,x,x,x,x]", "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]", "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]", "d: [*c,*c,*c,*c,*c,*c,*c,*c,*c]"].join("\n");
    const e = await refused(lol, "application/yaml");
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/^the YAML body cannot be read: Excessive alias count/);
  });

  it("still reports ordinary YAML errors with their position", async () => {
    expect((await refused("a: [1, 2\nb: 3", "application/yaml")).message).toMatch(/^the body is not valid YAML at line \d+, column \d+: /);
  });

  it("leaves room for the deepest filters admission allows", async () => {
    let f: unknown = { exact: { type: "t" } };
    for (let i = 1; i < MAX_FILTER_DEPTH; i++) f = { all: [f] };
    const trigger = { apiVersion: "eventing.knative.dev/v1", kind: "Trigger", metadata: { name: "t" }, spec: { broker: "b", filters: [f], subscriber: { uri: "http://x/" } } };
    expect(await readManifest(req(JSON.stringify(trigger), "application/json"))).toEqual(trigger);
  });
});

describe("admission refuses deep or cyclic bodies from any caller", () => {
  const ctx = { namespace: "demo", refs: ADDRESSABLES };
  const run = (body: unknown) => admit({ body, kind: BrokerKind, ctx, now: "2026-01-01T00:00:00Z", uid: "u", resourceVersion: "1", suffix: "abcde" });

  it("refuses a spec deeper than the limit with 400 naming the path", () => {
    let x: unknown = 1;
    for (let i = 0; i < 3000; i++) x = { x };
    expect(() => run(broker(x))).toThrow(/^the Broker nests deeper than 100 levels at spec\.x\.x\.x\.x\.x…/);
    try {
      run(broker(x));
    } catch (e) {
      expect((e as ApiError).status).toBe(400);
    }
  });

  it("refuses a cyclic body instead of failing later in JSON.stringify", () => {
    const spec: Record<string, unknown> = {};
    spec.self = spec;
    expect(() => run(broker(spec))).toThrow(/or contains itself/);
  });

  it("admits a body at the limit", () => {
    expect(run(broker(JSON.parse(deepSpec(MAX_MANIFEST_DEPTH - 2)).spec)).spec).toHaveProperty("x");
  });
});

describe("PingSource data under a JSON content type obeys the event data limit", () => {
  const spec = (data: string) => ({ schedule: "* * * * *", contentType: "application/json", data });
  it("refuses data nested 65 deep and accepts 64", () => {
    const deep = validatePingSpec(spec(`{"a":${"[".repeat(64)}${"]".repeat(64)}}`));
    expect(deep).toEqual([{ field: "spec.data", message: "nests JSON deeper than 64 levels (level 65 opens at byte 68): flatten the data" }]);
    expect(validatePingSpec(spec(`{"a":${"[".repeat(63)}${"]".repeat(63)}}`))).toEqual([]);
  });

  it("applies to any JSON media type, and not to opaque data", () => {
    expect(validatePingSpec({ ...spec("[".repeat(100)), contentType: "application/vnd.x+json" })).toHaveLength(1);
    expect(validatePingSpec({ ...spec("[".repeat(100)), contentType: "text/plain" })).toEqual([]);
  });
});
