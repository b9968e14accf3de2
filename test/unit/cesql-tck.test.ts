// Runs every case of the CloudEvents SQL TCK (test/fixtures/conformance/cesql-tck, Apache-2.0; see its
// ATTRIBUTION.md) against Eddy's CESQL engine, checking the value, its type, and the first error.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fixturePath } from "../support/fixtures.js";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { compile, CesqlParseError } from "../../core/cesql/index.js";
import type { AttrValue, CloudEvent } from "../../core/cloudevents/event.js";
import { eventView } from "../../core/cloudevents/view.js";

const TCK = fixturePath("cesql-tck");
if (!existsSync(TCK)) throw new Error(`${TCK} not found: the CESQL TCK is vendored in test/fixtures/conformance/cesql-tck`);

type Scalar = string | number | boolean;
interface TckCase {
  name: string;
  expression: Scalar; // YAML reads `TRUE` and `10` as scalars
  result?: Scalar;
  error?: string;
  event?: Record<string, unknown>;
  eventOverrides?: Record<string, unknown>;
}

/** Cases per file, from the TCK at cesql@v1.0.0 (its README.md). */
const EXPECTED_COUNTS: Record<string, number> = {
  binary_comparison_operators: 32, binary_logical_operators: 16, binary_math_operators: 18, case_sensitivity: 7,
  casting_functions: 21, context_attributes_access: 8, exists_expression: 7, in_expression: 16,
  integer_builtin_functions: 4, like_expression: 37, literals: 10, negate_operator: 6, not_operator: 6,
  parse_errors: 1, spec_examples: 13, string_builtin_functions: 42, sub_expression: 3, subscriptions_api_recreations: 28,
};

/**
 * Where the TCK and the CESQL spec disagree, Eddy follows the spec, as sdk-go (which Knative uses)
 * does. The case still runs and asserts Eddy's behaviour. Spec §3.7: Integer→Boolean casts MUST
 * be supported (0 is false, anything else true), so `NOT 10` is false with no error; the TCK
 * expects true with a cast error. See docs/filters.md.
 */
const DEVIATIONS: Record<string, { result: Scalar; error?: string; why: string }> = {
  "Not operator/Invalid int cast": { result: false, why: "spec §3.7 casts 10 to true, so NOT 10 is false with no error" },
};

/** The TCK says any valid event will do; it must not carry the names the cases treat as missing. */
const DEFAULT_EVENT: Record<string, AttrValue> = { specversion: "1.0", id: "tck-id", source: "/tck", type: "tck.type" };

function toEvent(tc: TckCase): CloudEvent {
  const { data, ...attrs } = { ...(tc.event ?? DEFAULT_EVENT), ...(tc.eventOverrides ?? {}) } as Record<string, unknown>;
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") throw new Error(`${tc.name}: attribute ${k} is ${typeof v}`);
  }
  return {
    attrs: attrs as Record<string, AttrValue>,
    ...(data !== undefined ? { data: new TextEncoder().encode(JSON.stringify(data)) } : {}),
  };
}

/** Every Date anywhere in a parsed document: the `yaml` core schema must leave timestamps as strings. */
function dates(v: unknown, at = "$"): string[] {
  if (v instanceof Date) return [at];
  if (Array.isArray(v)) return v.flatMap((x, i) => dates(x, `${at}[${i}]`));
  if (v && typeof v === "object") return Object.entries(v).flatMap(([k, x]) => dates(x, `${at}.${k}`));
  return [];
}

const files = readdirSync(TCK).filter((f) => f.endsWith(".yaml")).sort();
const docs = files.map((file) => ({ file, doc: parseYaml(readFileSync(join(TCK, file), "utf8")) as { name: string; tests: TckCase[] } }));
const registered = docs.reduce((n, d) => n + d.doc.tests.length, 0);
let executed = 0;
let deviationsRun = 0;

for (const { file, doc } of docs) {
  describe(`CESQL TCK: ${doc.name} (${file})`, () => {
    for (const tc of doc.tests) {
      const deviation = DEVIATIONS[`${doc.name}/${tc.name}`];
      it(deviation ? `${tc.name} [expected deviation from the TCK: ${deviation.why}]` : tc.name, () => {
        executed++;
        const expression = String(tc.expression);
        if (tc.error === "parse") {
          let caught: unknown;
          try {
            compile(expression);
          } catch (e) {
            caught = e;
          }
          expect(caught).toBeInstanceOf(CesqlParseError);
          const e = caught as CesqlParseError;
          expect(e.position).toBeGreaterThanOrEqual(0);
          expect(e.message).toBe(`CESQL parse error at position ${e.position}: ${e.reason}`);
          return;
        }
        const r = compile(expression).evaluate(eventView(toEvent(tc)));
        const want = deviation ?? { result: tc.result, error: tc.error };
        if (deviation) deviationsRun++;
        expect(typeof r.value, "result type").toBe(typeof want.result);
        expect(r.value, "result value").toStrictEqual(want.result);
        expect(r.error?.kind, `first error (${r.error?.message ?? "none"})`).toBe(want.error);
      });
    }
  });
}

describe("CESQL TCK harness", () => {
  it("loads every file, with timestamps kept as strings", () => {
    expect(Object.fromEntries(docs.map(({ file, doc }) => [file.replace(/\.yaml$/, ""), doc.tests.length]))).toEqual(EXPECTED_COUNTS);
    expect(docs.flatMap(({ file, doc }) => dates(doc, file))).toEqual([]);
    const time = docs.find((d) => d.file === "context_attributes_access.yaml")!.doc.tests.find((t) => t.expression === "time")!;
    expect(time.result).toBe("2018-04-26T14:48:09+02:00");
    expect(time.event?.time).toBe("2018-04-26T14:48:09+02:00");
  });
  it("ran all 275 cases, one of them as the documented deviation", () => {
    // Runs last in this file: vitest runs a file's tests in order.
    expect(registered).toBe(275);
    expect(executed).toBe(275);
    expect(deviationsRun).toBe(Object.keys(DEVIATIONS).length);
  });
});
