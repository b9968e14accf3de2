// Runs every case of the CloudEvents SQL TCK (../shared/conformance/cesql-tck, Apache-2.0; see its
// ATTRIBUTION.md) against Eddy's CESQL engine, checking the value, its type, and the first error.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { compile, CesqlParseError } from "../../core/cesql/index.js";
import type { AttrValue } from "../../core/cloudevents/event.js";
import { eventView } from "../../core/cloudevents/view.js";
import { sharedPath } from "../support/shared.js";

const TCK = sharedPath("conformance/cesql-tck");

interface TckCase {
  name: string;
  expression: string | number | boolean; // YAML reads `TRUE` and `10` as scalars
  result?: string | number | boolean;
  error?: string;
  event?: Record<string, AttrValue>;
  eventOverrides?: Record<string, AttrValue>;
}

/**
 * Where the TCK and the CESQL spec disagree, Eddy follows the spec (as sdk-go, which Knative uses,
 * does). Spec §3.7: Integer→Boolean casts MUST be supported (10 → true), so `NOT 10` is false with
 * no error; the TCK expects true with a cast error. See docs/filters.md.
 */
const DEVIATIONS: Record<string, { result: boolean; error?: string; why: string }> = {
  "Not operator/Invalid int cast": { result: false, why: "spec §3.7 casts 10 to true, so NOT 10 is false" },
};

const DEFAULT_EVENT: Record<string, AttrValue> = { specversion: "1.0", id: "tck-id", source: "/tck", type: "tck.type" };

const files = readdirSync(TCK).filter((f) => f.endsWith(".yaml")).sort();
let total = 0;

for (const file of files) {
  const doc = parseYaml(readFileSync(join(TCK, file), "utf8")) as { name: string; tests: TckCase[] };
  describe(`CESQL TCK: ${doc.name}`, () => {
    for (const tc of doc.tests) {
      total++;
      const key = `${doc.name}/${tc.name}`;
      const deviation = DEVIATIONS[key];
      it(deviation ? `${tc.name} (documented deviation: ${deviation.why})` : tc.name, () => {
        const attrs = { ...(tc.event ?? DEFAULT_EVENT), ...(tc.eventOverrides ?? {}) };
        if (tc.error === "parse") {
          expect(() => compile(String(tc.expression))).toThrow(CesqlParseError);
          return;
        }
        const r = compile(String(tc.expression)).evaluate(eventView({ attrs }));
        const want = deviation ?? { result: tc.result, error: tc.error };
        expect(r.value).toStrictEqual(want.result);
        expect(typeof r.value).toBe(typeof want.result);
        expect(r.error?.kind).toBe(want.error);
      });
    }
  });
}

describe("CESQL TCK coverage", () => {
  it("ran every case of every file", () => {
    expect(files.length).toBe(18);
    expect(total).toBe(275);
  });
});
