// Defaults Knative's webhooks apply that a manifest may rely on (pkg/apis/**/…_defaults.go).
import { describe, expect, it } from "vitest";
import { admit } from "../../core/resources/admit.js";
import { PingSourceKind } from "../../core/resources/kinds/sources.js";
import { ADDRESSABLES } from "../../core/resources/registry.js";

describe("PingSource defaults", () => {
  it("an absent or empty schedule becomes every minute, as ping_defaults.go has it", () => {
    for (const schedule of [undefined, ""]) {
      const p = admit({
        body: { metadata: { name: "p" }, spec: { ...(schedule === undefined ? {} : { schedule }), sink: { uri: "http://127.0.0.1:9/" } } },
        kind: PingSourceKind, ctx: { namespace: "demo", refs: ADDRESSABLES }, now: "2026-01-01T00:00:00Z", uid: "u", resourceVersion: "1", suffix: "abcde",
      });
      expect(p.spec!.schedule).toBe("* * * * *");
    }
  });
});
