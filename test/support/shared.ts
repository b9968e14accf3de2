// The shared conformance material lives beside the checkout (`../shared`), in CI as locally.
import { existsSync } from "node:fs";
import { resolve } from "node:path";

export function sharedPath(...parts: string[]): string {
  const root = resolve(import.meta.dirname, "../../../shared");
  if (!existsSync(root)) {
    throw new Error(`${root} not found: these tests read the conformance suites from ../shared beside the checkout (CI provides it); clone the project next to shared/`);
  }
  return resolve(root, ...parts);
}
