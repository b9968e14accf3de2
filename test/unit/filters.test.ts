import { describe, expect, it } from "vitest";
import type { AttrValue } from "../../core/cloudevents/event.js";
import { eventView } from "../../core/cloudevents/view.js";
import { compileTriggerFilter, validateTriggerFilters, type TriggerFilterSpec } from "../../core/filters/index.js";

const ev = (attrs: Record<string, AttrValue>, data?: unknown) => ({
  attrs: { specversion: "1.0", id: "1", source: "/s", type: "t", ...attrs, ...(data !== undefined ? { datacontenttype: "application/json" } : {}) },
  ...(data !== undefined ? { data: new TextEncoder().encode(JSON.stringify(data)) } : {}),
});
const pass = (spec: TriggerFilterSpec, attrs: Record<string, AttrValue>, data?: unknown) =>
  compileTriggerFilter(spec).matches(eventView(ev(attrs, data)));
const fields = (spec: TriggerFilterSpec) => validateTriggerFilters(spec).map((e) => e.field);

describe("which filter applies", () => {
  it("no filter passes everything; filters: [] falls back to the legacy filter; non-empty filters win", () => {
    expect(compileTriggerFilter({}).dialect).toBe("none");
    expect(compileTriggerFilter({ filter: {} }).dialect).toBe("none");
    const legacyOnly = { filter: { attributes: { type: "a" } }, filters: [] };
    expect(compileTriggerFilter(legacyOnly).dialect).toBe("attributes");
    expect(pass(legacyOnly, { type: "a" })).toBe(true);
    expect(pass(legacyOnly, { type: "b" })).toBe(false);
    const both = { filter: { attributes: { type: "a" } }, filters: [{ exact: { type: "b" } }] };
    expect(pass(both, { type: "a" })).toBe(false);
    expect(pass(both, { type: "b" })).toBe(true);
  });
});

describe("legacy attributes", () => {
  it("matches exactly and case-sensitively, AND over keys, on canonical strings", () => {
    const f = { filter: { attributes: { type: "T1", myint: "5", mybool: "true" } } };
    expect(pass(f, { type: "T1", myint: 5, mybool: true })).toBe(true);
    expect(pass(f, { type: "t1", myint: 5, mybool: true })).toBe(false);
    expect(pass(f, { type: "T1", myint: 6, mybool: true })).toBe(false);
  });
  it('"" means present and non-empty', () => {
    const f = { filter: { attributes: { myext: "" } } };
    expect(pass(f, { myext: "x" })).toBe(true);
    expect(pass(f, {})).toBe(false);
  });
});

describe("Subscriptions API dialects", () => {
  it("exact, prefix and suffix need every key present and matching", () => {
    expect(pass({ filters: [{ exact: { type: "a.b", source: "/s" } }] }, { type: "a.b" })).toBe(true);
    expect(pass({ filters: [{ exact: { type: "a.b", subject: "x" } }] }, { type: "a.b" })).toBe(false);
    expect(pass({ filters: [{ prefix: { type: "exac" } }] }, { type: "exact.type" })).toBe(true);
    expect(pass({ filters: [{ prefix: { type: "Exac" } }] }, { type: "exact.type" })).toBe(false);
    expect(pass({ filters: [{ suffix: { type: ".type" } }] }, { type: "exact.type" })).toBe(true);
    expect(pass({ filters: [{ suffix: { ext: "x" } }] }, {})).toBe(false);
  });
  it("the top level is an implicit all; all, any and not combine", () => {
    const list = [{ exact: { type: "exact.prefix.suffix.event.type" } }, { prefix: { type: "exact.prefix" } }, { suffix: { type: "suffix.event.type" } }, { cesql: "type LIKE 'exact.prefix.suffix%'" }];
    for (const spec of [{ filters: list }, { filters: [{ all: list }] }]) {
      expect(pass(spec, { type: "exact.prefix.suffix.event.type" })).toBe(true);
      expect(pass(spec, { type: "exact.prefix.event.type" })).toBe(false);
    }
    // Knative's new-trigger-filters "any" case.
    const any = { filters: [{ any: [
      { exact: { type: "exact.event.type" } }, { prefix: { type: "prefix" } }, { suffix: { type: "suffix" } },
      { not: { cesql: "type LIKE '%event.type%'" } }, { cesql: "type = 'cesql.event.type'" },
    ] }] };
    for (const t of ["exact.event.type", "prefix.event.type", "event.type.suffix", "not.type.event", "cesql.event.type"]) expect(pass(any, { type: t }), t).toBe(true);
    expect(pass(any, { type: "not.event.type" })).toBe(false);
  });
  it("matches on extensions, and an event without the extension fails", () => {
    const spec = { filters: [{ all: [
      { exact: { extensionattribute: "extensionvalue" } }, { prefix: { extensionattribute: "extension" } },
      { suffix: { extensionattribute: "value" } }, { cesql: "extensionattribute = 'extensionvalue'" },
    ] }] };
    expect(pass(spec, { extensionattribute: "extensionvalue" })).toBe(true);
    expect(pass(spec, {})).toBe(false);
  });
  it("cesql: an evaluation error or a non-boolean result fails the filter", () => {
    expect(pass({ filters: [{ cesql: "missing = 'x'" }] }, {})).toBe(false);
    expect(pass({ filters: [{ cesql: "NOT (missing = 'x')" }] }, {})).toBe(false);
    expect(pass({ filters: [{ cesql: "'abc'" }] }, {})).toBe(false);
    expect(pass({ filters: [{ cesql: "INT('x') = 0" }] }, {})).toBe(false);
  });
  it("cesql reads JSON data", () => {
    const spec = { filters: [{ cesql: "data.customer.tier = 'gold' AND data.total > 100" }] };
    expect(pass(spec, {}, { total: 150, customer: { tier: "gold" } })).toBe(true);
    expect(pass(spec, {}, { total: 50, customer: { tier: "gold" } })).toBe(false);
    expect(pass(spec, {}, { total: 150 })).toBe(false);
    expect(pass(spec, {})).toBe(false);
  });
});

describe("admission", () => {
  it("refuses unknown dialects, two dialects in one element, empty all/any and not: {}", () => {
    expect(fields({ filters: [{ regex: { type: "x" } }] })).toEqual(["spec.filters[0].regex"]);
    expect(fields({ filters: [{ exact: { type: "x" }, suffix: { type: "y" } }] })).toEqual(["spec.filters[0]"]);
    expect(fields({ filters: [{ all: [] }] })).toEqual(["spec.filters[0].all"]);
    expect(fields({ filters: [{ any: [] }] })).toEqual(["spec.filters[0].any"]);
    expect(fields({ filters: [{ not: {} }] })).toEqual(["spec.filters[0].not"]);
    expect(fields({ filters: [{}] })).toEqual(["spec.filters[0]"]);
  });
  it("refuses empty keys and values, bad keys and wrong types, with nested paths", () => {
    expect(fields({ filters: [{ exact: { type: "" } }] })).toEqual(["spec.filters[0].exact.type"]);
    expect(fields({ filters: [{ exact: {} }] })).toEqual(["spec.filters[0].exact"]);
    expect(fields({ filters: [{ any: [{ prefix: { "Bad-Key": "x" } }] }] })).toEqual(["spec.filters[0].any[0].prefix.Bad-Key"]);
    expect(fields({ filters: [{ exact: "type" }] })).toEqual(["spec.filters[0].exact"]);
    expect(fields({ filters: "nope" as unknown as unknown[] })).toEqual(["spec.filters"]);
  });
  it("refuses CESQL that does not parse, with position and reason, and unknown functions", () => {
    const [e] = validateTriggerFilters({ filters: [{ all: [{ cesql: "type = 'a' AND (" }] }] });
    expect(e!.field).toBe("spec.filters[0].all[0].cesql");
    expect(e!.message).toMatch(/position 16: expected/);
    const [f] = validateTriggerFilters({ filters: [{ cesql: "NOPE(type) = 'x'" }] });
    expect(f!.message).toMatch(/unknown function\(s\) NOPE\/1/);
  });
  it("accepts what is valid", () => {
    expect(validateTriggerFilters({ filter: { attributes: { type: "" } }, filters: [{ cesql: "EXISTS data.total" }, { not: { exact: { type: "x" } } }] })).toEqual([]);
  });
});
