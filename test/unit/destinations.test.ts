import { describe, expect, it } from "vitest";
import { addressClass, destinationPolicy, refusal } from "../../core/delivery/destinations.js";
import { admit } from "../../core/resources/admit.js";
import { BrokerKind } from "../../core/resources/kinds/broker.js";
import { TriggerKind } from "../../core/resources/kinds/trigger.js";
import { reconcileNamespace } from "../../core/resources/reconcile.js";
import { ADDRESSABLES } from "../../core/resources/registry.js";
import type { KindDef } from "../../core/resources/kind.js";

const cls = (u: string) => addressClass(new URL(u));

describe("destination policy", () => {
  it("classifies IP literals in every form the URL parser accepts", () => {
    expect(cls("http://127.0.0.1:9090/")).toBe("loopback");
    expect(cls("http://2130706433/")).toBe("loopback");
    expect(cls("http://0x7f.1/")).toBe("loopback");
    expect(cls("http://localhost/")).toBe("loopback");
    expect(cls("http://api.localhost/")).toBe("loopback");
    expect(cls("http://[::1]/")).toBe("loopback");
    expect(cls("http://[::ffff:127.0.0.1]/")).toBe("loopback");
    expect(cls("http://169.254.169.254/latest/meta-data")).toBe("link-local");
    expect(cls("http://[fe80::1]/")).toBe("link-local");
    for (const u of ["http://10.1.2.3/", "http://172.16.0.1/", "http://172.31.255.255/", "http://192.168.1.1/", "http://100.64.0.1/", "http://[fd00::1]/", "http://[::ffff:10.0.0.1]/"]) {
      expect(cls(u), u).toBe("private");
    }
    expect(cls("http://0.0.0.0/")).toBe("unspecified");
    expect(cls("http://[::]/")).toBe("unspecified");
    for (const u of ["https://orders.example.com/", "http://172.32.0.1/", "http://8.8.8.8/", "http://[2606:4700::1111]/", "http://192.169.0.1/"]) {
      expect(cls(u), u).toBe("public");
    }
  });

  it("refuses by policy, naming the setting, the class and the fix, with the URL redacted", () => {
    expect(refusal("http://127.0.0.1:9/", "public-and-loopback")).toBeUndefined();
    expect(refusal("http://127.0.0.1:9/", "allow-all")).toBeUndefined();
    expect(refusal("https://example.com/", "public-only")).toBeUndefined();
    const why = refusal("http://127.0.0.1:9/hook?token=abc", "public-only")!;
    expect(why).toContain("loopback");
    expect(why).toContain("DESTINATION_POLICY=public-only");
    expect(why).toContain("public-and-loopback or allow-all");
    expect(why).not.toContain("token=abc");
    expect(refusal("http://10.0.0.5/", "public-and-loopback")).toContain("set DESTINATION_POLICY to allow-all");
  });

  it("reads the setting, unknown values falling to the safe side", () => {
    expect(destinationPolicy({})).toBe("public-only");
    expect(destinationPolicy({ DESTINATION_POLICY: "Allow-All" })).toBe("allow-all");
    expect(destinationPolicy({ DESTINATION_POLICY: "everything" })).toBe("public-only");
  });

  it("keeps a Trigger to a refused address from being Ready, so no plan routes to it", () => {
    const ctx = { namespace: "demo", refs: ADDRESSABLES };
    const make = (kind: KindDef, body: unknown) => admit({ body, kind, ctx, now: "2026-01-01T00:00:00Z", uid: crypto.randomUUID(), resourceVersion: "1", suffix: "x" });
    const b = make(BrokerKind, { metadata: { name: "default" } });
    const t = make(TriggerKind, { metadata: { name: "t" }, spec: { broker: "default", subscriber: { uri: "http://169.254.169.254/latest/meta-data" } } });
    const r = reconcileNamespace([b, t], "demo", "https://eddy.example", "2026-01-01T00:00:00Z", () => true, undefined, undefined, "public-only");
    expect(t.status!.conditions!.find((c) => c.type === "Ready")).toMatchObject({ status: "False", message: expect.stringContaining("link-local address") });
    expect(r.plans.get("BROKER:demo/default")!.routes).toHaveLength(0);
  });
});
