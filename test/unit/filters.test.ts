import { describe, expect, it } from "vitest";
import { filterBench } from "../../bench/filters.js";
import { compile } from "../../core/cesql/index.js";
import type { AttrValue, CloudEvent } from "../../core/cloudevents/event.js";
import { eventView } from "../../core/cloudevents/view.js";
import {
  allFilter, anyFilter, attributesFilter, cesqlFilter, compileFilter, compileFilters, compileTriggerFilter, exactFilter,
  FilterValidationError, notFilter, prefixFilter, suffixFilter, validateFilter, validateFilters, validateTriggerFilters,
  type TriggerFilterSpec,
} from "../../core/filters/index.js";

const MIN = { specversion: "1.0", id: "1", source: "/s", type: "t" };
const ev = (attrs: Record<string, AttrValue>, data?: unknown): CloudEvent => ({
  attrs: { ...MIN, ...attrs, ...(data !== undefined ? { datacontenttype: "application/json" } : {}) },
  ...(data !== undefined ? { data: new TextEncoder().encode(JSON.stringify(data)) } : {}),
});
const view = (attrs: Record<string, AttrValue>, data?: unknown) => eventView(ev(attrs, data));
const pass = (spec: TriggerFilterSpec, attrs: Record<string, AttrValue>, data?: unknown) => compileTriggerFilter(spec).matches(view(attrs, data));
/** The types among `types` that a Trigger with `spec` receives. */
const delivered = (spec: TriggerFilterSpec, types: string[]) => types.filter((type) => pass(spec, { type }));
const errors = (spec: TriggerFilterSpec) => validateTriggerFilters(spec);
const fields = (spec: TriggerFilterSpec) => errors(spec).map((e) => e.field);

// sdk-go's test events, as Knative's new-trigger-filters rekt tests use them.
const FULL = { type: "com.example.FullEvent", source: "http://example.com/source", id: "full-event", subject: "topic", exbool: true, exint: 42 };
const WRONG = { type: "org.wrong.type", source: "org.wrong.source", id: "min-event" };

describe("Knative new-trigger-filters conformance examples", () => {
  it("single dialects: exact, prefix, suffix and cesql on type and source", () => {
    const single: Record<string, TriggerFilterSpec> = {
      exact: { filters: [{ exact: { type: FULL.type, source: FULL.source } }] },
      prefix: { filters: [{ prefix: { type: FULL.type.slice(0, 4), source: FULL.source.slice(0, 4) } }] },
      suffix: { filters: [{ suffix: { type: FULL.type.slice(5), source: FULL.source.slice(5) } }] },
      cesql: { filters: [{ cesql: `type = '${FULL.type}' AND source = '${FULL.source}'` }] },
    };
    for (const [name, spec] of Object.entries(single)) {
      expect(validateTriggerFilters(spec), name).toEqual([]);
      expect(pass(spec, FULL), name).toBe(true);
      expect(pass(spec, WRONG), name).toBe(false);
    }
  });
  const four = [
    { exact: { type: "exact.prefix.suffix.event.type" } }, { prefix: { type: "exact.prefix" } },
    { suffix: { type: "suffix.event.type" } }, { cesql: "type LIKE 'exact.prefix.suffix%'" },
  ];
  const allTypes = ["not.event.type", "exact.prefix.suffix.event", "exact.prefix.suffix.event.suffix.event.type", "exact.prefix.suffix.event.type"];
  it("all: only the event matching all four filters is delivered", () => {
    expect(delivered({ filters: [{ all: four }] }, allTypes)).toEqual(["exact.prefix.suffix.event.type"]);
  });
  it("implicit all: the same four filters listed at the top level", () => {
    expect(delivered({ filters: four }, allTypes)).toEqual(["exact.prefix.suffix.event.type"]);
  });
  it("any, with not(cesql LIKE): delivers all but not.event.type", () => {
    const spec = { filters: [{ any: [
      { exact: { type: "exact.event.type" } }, { prefix: { type: "prefix" } }, { suffix: { type: "suffix" } },
      { not: { cesql: "type LIKE '%event.type%'" } }, { cesql: "type = 'cesql.event.type'" },
    ] }] };
    const types = ["exact.event.type", "prefix.event.type", "event.type.suffix", "not.type.event", "cesql.event.type", "not.event.type"];
    expect(delivered(spec, types)).toEqual(["exact.event.type", "prefix.event.type", "event.type.suffix", "not.type.event", "cesql.event.type"]);
  });
  it("multiple Triggers and sinks: each Trigger selects its own events, both get the shared one", () => {
    const types = ["type1", "both.should.match", "type2", "type3"];
    const trigger = (t: string) => ({ filter: {}, filters: [{ any: [{ exact: { type: t } }, { prefix: { type: "both" } }] }] });
    expect(delivered(trigger("type1"), types)).toEqual(["type1", "both.should.match"]);
    expect(delivered(trigger("type2"), types)).toEqual(["both.should.match", "type2"]);
  });
  it("extensions: every dialect fails on an event without the extension", () => {
    const spec = { filters: [{ all: [
      { exact: { extensionattribute: "extensionvalue" } }, { prefix: { extensionattribute: "extension" } },
      { suffix: { extensionattribute: "value" } }, { cesql: "extensionattribute LIKE '%value'" },
    ] }] };
    expect(pass(spec, {})).toBe(false);
    expect(pass(spec, { extensionattribute: "extensionvalue" })).toBe(true);
    for (const f of spec.filters[0]!.all) expect(pass({ filters: [f] }, {}), JSON.stringify(f)).toBe(false);
  });
  it("filters: [] does not override filter.attributes", () => {
    const spec = { filters: [], filter: { attributes: { type: "filter.attribute.event.type" } } };
    expect(compileTriggerFilter(spec).dialect).toBe("attributes");
    expect(delivered(spec, ["filter.attribute.event.type", "some.other.type"])).toEqual(["filter.attribute.event.type"]);
  });
  it("non-empty filters override filter.attributes", () => {
    const spec = {
      filters: [{ exact: { type: "subscriptionapi.filters.override.event.type" } }],
      filter: { attributes: { type: "filter.check.event.type" } },
    };
    expect(compileTriggerFilter(spec).dialect).toBe("filters");
    expect(delivered(spec, ["subscriptionapi.filters.override.event.type", "filter.check.event.type"])).toEqual(["subscriptionapi.filters.override.event.type"]);
  });
});

describe("which filter applies", () => {
  it("no filter, null, {} and empty attributes pass everything", () => {
    for (const spec of [{}, { filter: null, filters: null }, { filter: {} }, { filter: { attributes: {} } }, { filters: [] }] as TriggerFilterSpec[]) {
      const f = compileTriggerFilter(spec);
      expect(f.dialect, JSON.stringify(spec)).toBe("none");
      expect(f.matches(view({}))).toBe(true);
    }
  });
  it("refuses to compile what admission refuses", () => {
    expect(() => compileTriggerFilter({ filters: [{ exact: { type: "" } }] })).toThrow(FilterValidationError);
    expect(() => compileTriggerFilter({ filter: { attributes: { Type: "x" } } })).toThrow(/spec\.filter\.attributes\.Type/);
    try {
      compileFilters([{ all: [{ cesql: "type =" }] }]);
      throw new Error("compiled");
    } catch (e) {
      expect((e as FilterValidationError).errors.map((x) => x.field)).toEqual(["filters[0].all[0].cesql"]);
    }
    expect(() => compileFilter({ nope: 1 })).toThrow(/unknown filter dialect "nope"/);
  });
});

describe("legacy filter.attributes", () => {
  it("matches exactly and case-sensitively, AND over keys, on canonical strings", () => {
    const f = { filter: { attributes: { type: "T1", myint: "5", mybool: "true" } } };
    expect(pass(f, { type: "T1", myint: 5, mybool: true })).toBe(true);
    expect(pass(f, { type: "T1", myint: "5", mybool: "true" })).toBe(true);
    expect(pass(f, { type: "t1", myint: 5, mybool: true })).toBe(false);
    expect(pass(f, { type: "T1", myint: 6, mybool: true })).toBe(false);
    expect(pass(f, { type: "T1", myint: 5 })).toBe(false);
  });
  it('"" means present and non-empty', () => {
    const f = { filter: { attributes: { myext: "" } } };
    expect(pass(f, { myext: "x" })).toBe(true);
    expect(pass(f, { myext: 0 })).toBe(true);
    expect(pass(f, { myext: "" })).toBe(false);
    expect(pass(f, {})).toBe(false);
    expect(pass({ filter: { attributes: { subject: "" } } }, {})).toBe(false);
    expect(pass({ filter: { attributes: { type: "" } } }, {})).toBe(true);
  });
  it("reads datamediatype and the schemaurl/dataschema alias as Knative does", () => {
    const f = { filter: { attributes: { datamediatype: "application/json" } } };
    expect(pass(f, { datacontenttype: "application/JSON; charset=utf-8" })).toBe(true);
    expect(pass(f, { datacontenttype: "text/plain" })).toBe(false);
    expect(pass(f, {})).toBe(false);
    expect(pass({ filters: [{ exact: { dataschema: "http://s" } }] }, { schemaurl: "http://s" })).toBe(true);
    expect(pass({ filters: [{ prefix: { schemaurl: "http://" } }] }, { dataschema: "http://s" })).toBe(true);
  });
});

describe("dialect units", () => {
  const v = view({ type: "com.example.order.created", source: "/orders/7", myint: 42, mybool: false });
  it("exact, prefix and suffix need every key present and matching, case-sensitively", () => {
    expect(exactFilter({ type: "com.example.order.created", source: "/orders/7" })(v)).toBe(true);
    expect(exactFilter({ type: "com.example.order.created", subject: "x" })(v)).toBe(false);
    expect(exactFilter({ myint: "42", mybool: "false" })(v)).toBe(true);
    expect(exactFilter({ type: "COM.example.order.created" })(v)).toBe(false);
    expect(prefixFilter({ type: "com.example.", source: "/orders/" })(v)).toBe(true);
    expect(prefixFilter({ type: "com.example.order.created.v2" })(v)).toBe(false);
    expect(prefixFilter({ myint: "4" })(v)).toBe(true);
    expect(prefixFilter({ ext: "x" })(v)).toBe(false);
    expect(suffixFilter({ type: ".created", source: "/7" })(v)).toBe(true);
    expect(suffixFilter({ type: ".Created" })(v)).toBe(false);
    expect(suffixFilter({ mybool: "lse" })(v)).toBe(true);
  });
  it("all, any and not combine verdicts", () => {
    const yes = exactFilter({ myint: "42" });
    const no = exactFilter({ myint: "41" });
    expect(allFilter([yes, yes, yes])(v)).toBe(true);
    expect(allFilter([yes, yes, no])(v)).toBe(false);
    expect(allFilter([yes, no])(v)).toBe(false);
    expect(anyFilter([no, no, yes])(v)).toBe(true);
    expect(anyFilter([no, no, no])(v)).toBe(false);
    expect(anyFilter([no])(v)).toBe(false);
    expect(notFilter(no)(v)).toBe(true);
    expect(notFilter(notFilter(yes))(v)).toBe(true);
  });
  it("cesql passes on true only: false, non-Boolean results and errors fail", () => {
    expect(cesqlFilter(compile("myint > 40 AND NOT mybool"))(v)).toBe(true);
    expect(cesqlFilter(compile("myint < 40"))(v)).toBe(false);
    expect(cesqlFilter(compile("type"))(v)).toBe(false);
    expect(cesqlFilter(compile("missing = 'x'"))(v)).toBe(false);
    expect(cesqlFilter(compile("NOT (missing = 'x')"))(v)).toBe(false);
    expect(cesqlFilter(compile("INT(type) = 0"))(v)).toBe(false);
    expect(notFilter(cesqlFilter(compile("missing = 'x'")))(v)).toBe(true);
  });
  it("legacy attributes unit", () => {
    expect(attributesFilter({})(v)).toBe(true);
    expect(attributesFilter({ type: "com.example.order.created", myint: "" })(v)).toBe(true);
    expect(attributesFilter({ type: "com.example.order.created", subject: "" })(v)).toBe(false);
  });
  it("cesql reads JSON data", () => {
    const spec = { filters: [{ cesql: "data.customer.tier = 'gold' AND data.total > 100" }] };
    expect(pass(spec, {}, { total: 150, customer: { tier: "gold" } })).toBe(true);
    expect(pass(spec, {}, { total: 50, customer: { tier: "gold" } })).toBe(false);
    expect(pass(spec, {}, { total: 150 })).toBe(false);
    expect(pass(spec, {}, { total: 150.5, customer: { tier: "gold" } })).toBe(false);
    expect(pass(spec, {})).toBe(false);
    expect(pass({ filters: [{ cesql: "EXISTS data.items[0].sku" }] }, {}, { items: [{ sku: "A" }] })).toBe(true);
  });
});

describe("admission", () => {
  it("refuses unknown dialects, two dialects in one element, empty all/any, not: {} and non-objects", () => {
    expect(fields({ filters: [{ regex: { type: "x" } }] })).toEqual(["spec.filters[0].regex"]);
    expect(errors({ filters: [{ sql: "type = 'x'" }] })[0]!.message).toMatch(/unknown filter dialect "sql" \(Knative names the CloudEvents SQL dialect "cesql"\)/);
    expect(errors({ filters: [{ exact: { type: "x" }, suffix: { type: "y" } }] })).toEqual([
      { field: "spec.filters[0]", message: expect.stringMatching(/uses 2 dialects \(exact, suffix\)/) },
    ]);
    expect(fields({ filters: [{ all: [] }] })).toEqual(["spec.filters[0].all"]);
    expect(fields({ filters: [{ any: [] }] })).toEqual(["spec.filters[0].any"]);
    expect(errors({ filters: [{ not: {} }] })).toEqual([{ field: "spec.filters[0].not", message: expect.stringMatching(/an empty not match every event/) }]);
    expect(fields({ filters: [{}] })).toEqual(["spec.filters[0]"]);
    expect(fields({ filters: ["exact", null, []] })).toEqual(["spec.filters[0]", "spec.filters[1]", "spec.filters[2]"]);
  });
  it("refuses empty keys and values in exact/prefix/suffix, where Knative would pass everything", () => {
    expect(errors({ filters: [{ exact: { type: "" } }] })).toEqual([
      { field: "spec.filters[0].exact.type", message: expect.stringMatching(/must not be empty \(Knative would silently match every event\)/) },
    ]);
    expect(fields({ filters: [{ prefix: {} }] })).toEqual(["spec.filters[0].prefix"]);
    expect(errors({ filters: [{ suffix: { "": "x" } }] })).toEqual([{ field: "spec.filters[0].suffix", message: "an attribute name must not be empty" }]);
  });
  it("refuses keys that are not ^[a-z][a-z0-9]*$, in the new dialects and in legacy attributes", () => {
    for (const key of ["Type", "my_ext", "my-ext", "my ext", "123", "1abc", "typé"]) {
      expect(fields({ filters: [{ exact: { [key]: "x" } }] }), key).toEqual([`spec.filters[0].exact.${key}`]);
      expect(fields({ filter: { attributes: { [key]: "x" } } }), key).toEqual([`spec.filter.attributes.${key}`]);
    }
    expect(errors({ filters: [{ exact: { Type: "x" } }] })[0]!.message).toBe('"Type" is not a valid attribute name: use a lower-case letter followed by lower-case letters and digits');
    expect(errors({ filters: [{ exact: { abcdefghij0123456789: "x", a1: "y" } }] })).toEqual([]);
  });
  it("refuses wrong JSON types", () => {
    expect(fields({ filters: [{ exact: "type" }] })).toEqual(["spec.filters[0].exact"]);
    expect(fields({ filters: [{ exact: ["type"] }] })).toEqual(["spec.filters[0].exact"]);
    expect(errors({ filters: [{ exact: { type: 5 } }] })).toEqual([{ field: "spec.filters[0].exact.type", message: "must be a string, not number" }]);
    expect(fields({ filters: [{ all: { exact: { type: "x" } } }] })).toEqual(["spec.filters[0].all"]);
    expect(fields({ filters: [{ not: [{ exact: { type: "x" } }] }] })).toEqual(["spec.filters[0].not"]);
    expect(fields({ filters: [{ cesql: 5 }] })).toEqual(["spec.filters[0].cesql"]);
    expect(fields({ filters: [{ cesql: "  " }] })).toEqual(["spec.filters[0].cesql"]);
    expect(fields({ filters: "nope" as unknown as unknown[] })).toEqual(["spec.filters"]);
    expect(fields({ filter: "x" as unknown as TriggerFilterSpec["filter"] })).toEqual(["spec.filter"]);
    expect(fields({ filter: { attributes: ["x"] as unknown as Record<string, string> } })).toEqual(["spec.filter.attributes"]);
    expect(errors({ filter: { attributes: { type: null as unknown as string } } })).toEqual([{ field: "spec.filter.attributes.type", message: "must be a string, not null" }]);
  });
  it("refuses CESQL that does not parse, naming the position and the reason", () => {
    expect(errors({ filters: [{ exact: { type: "x" } }, { any: [{ cesql: "type = 'a' AND (" }] }] })).toEqual([
      { field: "spec.filters[1].any[0].cesql", message: "CESQL parse error at position 16: expected a value, an attribute, a function call or '(' but found end of input" },
    ]);
    expect(errors({ filters: [{ cesql: "(type = 'a'" }] })[0]!.message).toBe("CESQL parse error at position 11: expected ')' but found end of input");
  });
  it("refuses CESQL calling unknown functions or never yielding a Boolean", () => {
    expect(errors({ filters: [{ cesql: "NOPE(type) = 'x'" }] })[0]!.message).toMatch(/calls NOPE\/1, which does not exist/);
    expect(errors({ filters: [{ cesql: "LENGTH(type, 2) = 1" }] })[0]!.message).toMatch(/LENGTH\/2/);
    expect(errors({ filters: [{ cesql: "'gold'" }] })[0]!.message).toMatch(/always yields a String/);
    expect(errors({ filters: [{ cesql: "1 + 1" }] })[0]!.message).toMatch(/always yields an Integer/);
    expect(errors({ filters: [{ cesql: "type" }] })).toEqual([]);
  });
  it("collects every error with nested paths, and refuses absurd nesting", () => {
    expect(fields({
      filter: { attributes: { Bad: "x" } },
      filters: [{ all: [{ exact: { type: "" } }, { not: { any: [{ prefix: { "Bad-Key": "x" } }, { cesql: "(" }] } }] }],
    })).toEqual(["spec.filter.attributes.Bad", "spec.filters[0].all[0].exact.type", "spec.filters[0].all[1].not.any[0].prefix.Bad-Key", "spec.filters[0].all[1].not.any[1].cesql"]);
    let deep: unknown = { exact: { type: "x" } };
    for (let i = 0; i < 40; i++) deep = { not: deep };
    expect(errors({ filters: [deep] })[0]!.message).toMatch(/more than 32 deep/);
    expect(() => compileFilters([deep])).toThrow(FilterValidationError);
  });
  it("validates bare filter lists for other resources, under any path", () => {
    expect(validateFilters([{ exact: { type: "" } }], "spec.from[0].filters")).toEqual([
      { field: "spec.from[0].filters[0].exact.type", message: expect.any(String) },
    ]);
    expect(validateFilters(undefined, "spec.filters")).toEqual([]);
    expect(validateFilter({ cesql: "type = 'x'" }, "x")).toEqual([]);
    expect(validateTriggerFilters({ filters: [{ not: {} }] }, "trigger.spec").map((e) => e.field)).toEqual(["trigger.spec.filters[0].not"]);
    expect(compileFilters([{ exact: { type: "a" } }, { cesql: "EXISTS subject" }])(view({ type: "a", subject: "s" }))).toBe(true);
    expect(compileFilters([])(view({}))).toBe(true);
  });
  it("accepts what is valid", () => {
    expect(validateTriggerFilters({
      filter: { attributes: { type: "", source: "/s" } },
      filters: [{ cesql: "EXISTS data.total" }, { not: { exact: { type: "x" } } }, { all: [{ any: [{ suffix: { type: "y" } }] }] }],
    })).toEqual([]);
  });
});

describe("filter benchmark", () => {
  it("measures every row, with a 20-Trigger pass where each event matches exactly one Trigger", async () => {
    const rows = await filterBench({ durationMs: 5 });
    expect(rows.map((r) => r.name)).toEqual([
      "no filter (baseline)", "legacy attributes", "exact", "prefix", "suffix", "all (exact + prefix)", "any (3 exact)", "not (exact)",
      "cesql on attributes", "cesql on JSON data",
      "20-Trigger Broker pass (mixed attribute dialects, 1 match per event), events/s",
      "20-Trigger Broker pass (cesql on data, 1 match per event), events/s",
    ]);
    expect(rows[0]!.ratioToNoFilter).toBe(1);
    for (const r of rows) expect(r.opsPerSec, r.name).toBeGreaterThan(0);
  });
});
