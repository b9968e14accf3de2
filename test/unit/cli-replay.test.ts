// `eddy replay`'s command line: times, targets and the Replay manifest it sends.
import { describe, expect, it } from "vitest";
import { durationMs, joinRelative, parseTime, replayManifest, targetSpec } from "../../cli/commands/replay.mjs";
import { UsageError } from "../../cli/lib.mjs";

const NOW = Date.parse("2026-03-01T12:00:00.000Z");

describe("eddy replay: times", () => {
  it("takes RFC 3339 as given, now, and times relative to now", () => {
    expect(parseTime("2026-03-01T10:00:00Z", "--from", NOW)).toBe("2026-03-01T10:00:00Z");
    expect(parseTime("2026-03-01T10:00:00.250+02:00", "--from", NOW)).toBe("2026-03-01T10:00:00.250+02:00");
    expect(parseTime("now", "--to", NOW)).toBe("2026-03-01T12:00:00.000Z");
    expect(parseTime("-15m", "--from", NOW)).toBe("2026-03-01T11:45:00.000Z");
    expect(parseTime("-2h", "--from", NOW)).toBe("2026-03-01T10:00:00.000Z");
    expect(parseTime("-1d", "--from", NOW)).toBe("2026-02-28T12:00:00.000Z");
    expect(parseTime("-1h30m", "--from", NOW)).toBe("2026-03-01T10:30:00.000Z");
    expect(parseTime("-90s", "--from", NOW)).toBe("2026-03-01T11:58:30.000Z");
    expect(parseTime("-500ms", "--from", NOW)).toBe("2026-03-01T11:59:59.500Z");
  });

  it("refuses anything else with a usage error that names the flag", () => {
    for (const bad of ["yesterday", "15m", "-15", "-15x", "+1h", "2026-03-01", "2026-03-01T10:00:00", "2026-13-01T10:00:00Z", "", "-"]) {
      expect(() => parseTime(bad, "--from", NOW), bad).toThrow(UsageError);
    }
    expect(() => parseTime("soon", "--to", NOW)).toThrow(/--to "soon" is not a time/);
  });

  it("reads durations, and joins a relative time to its flag so that parseArgs takes it as a value", () => {
    expect(durationMs("10m")).toBe(600_000);
    expect(durationMs("1h30m")).toBe(5_400_000);
    expect(durationMs("10")).toBeUndefined();
    expect(joinRelative(["--of", "broker:b", "--from", "-15m", "--to", "now", "-n", "x"])).toEqual(["--of", "broker:b", "--from=-15m", "--to", "now", "-n", "x"]);
    expect(joinRelative(["--to", "-1h", "--from", "-n"])).toEqual(["--to=-1h", "--from", "-n"]);
  });
});

describe("eddy replay: the manifest", () => {
  it("targets a Broker, a Channel or an InMemoryChannel", () => {
    expect(targetSpec("broker:default").spec).toEqual({ broker: "default" });
    expect(targetSpec("channel:orders").spec).toEqual({ channel: { kind: "Channel", name: "orders" } });
    expect(targetSpec("inmemorychannel:orders").spec).toEqual({ channel: { kind: "InMemoryChannel", name: "orders" } });
    for (const bad of ["trigger:t", "broker", "broker:", "broker:a:b", "broker:Bad_Name"]) expect(() => targetSpec(bad), bad).toThrow(UsageError);
  });

  it("has the window, the Trigger and the filters; a generated name unless --name", () => {
    const m = replayManifest({ of: "broker:default", from: "-1h", trigger: "audit", type: "com.example.order", filter: ['{"prefix":{"source":"/shop"}}'] }, "demo", NOW);
    expect(m).toEqual({
      apiVersion: "eventing.eddy.dev/v1alpha1", kind: "Replay",
      metadata: { generateName: "default-replay-", namespace: "demo" },
      spec: {
        broker: "default", from: "2026-03-01T11:00:00.000Z", to: "2026-03-01T12:00:00.000Z", trigger: "audit",
        filters: [{ prefix: { source: "/shop" } }, { exact: { type: "com.example.order" } }],
      },
    });
    const named = replayManifest({ of: "channel:orders", from: "2026-03-01T10:00:00Z", to: "2026-03-01T11:00:00Z", subscription: "s", name: "fix" }, "demo", NOW);
    expect(named.metadata).toEqual({ name: "fix", namespace: "demo" });
    expect(named.spec).toEqual({ channel: { kind: "Channel", name: "orders" }, from: "2026-03-01T10:00:00Z", to: "2026-03-01T11:00:00Z", subscription: "s" });
  });

  it("refuses what the API would refuse, before sending it", () => {
    const bad = (values: Record<string, unknown>, message: RegExp) => expect(() => replayManifest({ of: "broker:b", from: "-1h", ...values }, "demo", NOW)).toThrow(message);
    bad({ from: undefined }, /--from is required/);
    bad({ from: "now", to: "-1h" }, /is after --to/);
    bad({ subscription: "s" }, /--subscription is for a Channel/);
    bad({ of: "channel:c", trigger: "t" }, /--trigger is for a Broker/);
    bad({ filter: ["{nope"] }, /--filter '\{nope' is not JSON/);
    bad({ filter: ["[1]"] }, /must be one filter object/);
    bad({ name: "Not_A_Name" }, /--name "Not_A_Name" is not a resource name/);
  });
});
