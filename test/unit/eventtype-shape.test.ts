// EventType (eventing.knative.dev/v1beta3) as Knative's types serialise it: every attribute
// definition has `required`, a plain bool (pkg/apis/eventing/v1beta3/eventtype_types.go).
import { describe, expect, it } from "vitest";
import { admit } from "../../core/resources/admit.js";
import type { ApiError } from "../../core/errors.js";
import { EventTypeKind } from "../../core/resources/kinds/eventtype.js";
import { ADDRESSABLES } from "../../core/resources/registry.js";

const make = (attributes: unknown[]) => admit({
  body: { metadata: { name: "orders" }, spec: { attributes } }, kind: EventTypeKind, ctx: { namespace: "demo", refs: ADDRESSABLES },
  now: "2026-01-01T00:00:00Z", uid: "u", resourceVersion: "1", suffix: "abcde",
});
const required = ["specversion", "id", "source"].map((name) => ({ name, required: true }));

describe("EventType attribute definitions", () => {
  it("an attribute without required reads as required: false", () => {
    const et = make([...required, { name: "type", value: "com.acme.order" }, { name: "subject" }]);
    expect(et.spec!.attributes).toEqual([...required, { name: "type", value: "com.acme.order", required: false }, { name: "subject", required: false }]);
  });
  it("required must be a bool: 422 naming the attribute", () => {
    let e: ApiError | undefined;
    try {
      make([...required, { name: "type", required: "yes" }]);
    } catch (err) {
      e = err as ApiError;
    }
    expect(e?.status).toBe(422);
    expect(e?.causes.map((c) => c.field)).toEqual(["spec.attributes[3].required"]);
  });
});
