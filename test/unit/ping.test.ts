import { describe, expect, it } from "vitest";
import { compileSchedule, pingConfig, pingEvent, validatePingSpec } from "../../core/sources/ping.js";

const at = (iso: string) => new Date(iso);

describe("PingSource schedules", () => {
  it("reads five fields, a leading seconds field with Go-cron steps, and descriptors", () => {
    expect(compileSchedule("*/15 * * * *").next(at("2026-01-01T00:07:30Z"))!.toISOString()).toBe("2026-01-01T00:15:00.000Z");
    const secs = compileSchedule("10 0/1 * * * ?");
    expect(secs.minuteAligned).toBe(false);
    expect(secs.next(at("2026-01-01T00:00:30Z"))!.toISOString()).toBe("2026-01-01T00:01:10.000Z");
    expect(compileSchedule("0 */5 * * * *").minuteAligned).toBe(true);
    expect(compileSchedule("@hourly").next(at("2026-01-01T00:07:00Z"))!.toISOString()).toBe("2026-01-01T01:00:00.000Z");
    expect(compileSchedule("@midnight").minuteAligned).toBe(true);
  });
  it("applies the time zone", () => {
    expect(compileSchedule("0 9 * * *", "Europe/Amsterdam").next(at("2026-01-01T00:00:00Z"))!.toISOString()).toBe("2026-01-01T08:00:00.000Z");
  });
  it("refuses @every, wrong field counts and bad values", () => {
    expect(() => compileSchedule("@every 1m")).toThrow(/@every/);
    expect(() => compileSchedule("* * *")).toThrow(/3 fields/);
    expect(() => compileSchedule("61 * * * *")).toThrow();
  });
});

describe("PingSource spec", () => {
  it("validates data against contentType and the time zone", () => {
    expect(validatePingSpec({ schedule: "* * * * *", contentType: "application/json", data: '{"a":1}' })).toEqual([]);
    expect(validatePingSpec({ schedule: "* * * * *", contentType: "application/json", dataBase64: btoa("[1]") }).map((e) => e.field)).toEqual(["spec.dataBase64"]);
    expect(validatePingSpec({ schedule: "* * * * *", dataBase64: "%%%" }).map((e) => e.field)).toEqual(["spec.dataBase64"]);
    expect(validatePingSpec({ schedule: "* * * * *", timezone: "Nowhere/City" }).map((e) => e.field)).toEqual(["spec.timezone"]);
  });
  it("builds Knative's ping event with the tick as its time and the configured bytes", () => {
    const cfg = pingConfig("demo", "beat", { schedule: "* * * * *", contentType: "text/plain", dataBase64: "aGVsbG8sIHdvcmxkIQ==", ceOverrides: { extensions: { team: "a" } } });
    const ev = pingEvent(cfg, Date.parse("2026-01-01T00:01:00Z"), "id-1");
    expect(ev.attrs).toEqual({
      specversion: "1.0", id: "id-1", source: "/apis/v1/namespaces/demo/pingsources/beat", type: "dev.knative.sources.ping",
      time: "2026-01-01T00:01:00.000Z", datacontenttype: "text/plain", team: "a",
    });
    expect(new TextDecoder().decode(ev.data)).toBe("hello, world!");
  });
});
