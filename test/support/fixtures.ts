// The conformance suites the tests run, vendored under test/fixtures/conformance (Apache-2.0; each
// folder keeps its LICENSE and an ATTRIBUTION.md naming the source repository and commit).
import { resolve } from "node:path";

export function fixturePath(...parts: string[]): string {
  return resolve(import.meta.dirname, "..", "fixtures", "conformance", ...parts);
}
