// The live tail's model on recorded messages in the tail's wire shape: grouping outcomes under
// their event, the CESQL filter (Eddy's own engine, as the browser runs it), pause and resume.
import { describe, expect, it } from "vitest";
import { outcomeText, parseTailMessage, TailModel, type TailMessage } from "../../console/tail.js";
import { tailProtocolFor, tailUpgradeHeaders } from "../../core/tail.js";

const RECORDED = [
  '{"kind":"event","at":"2026-12-03T10:00:00.000Z","partition":0,"attrs":{"specversion":"1.0","id":"o-1","source":"/shop","type":"com.example.order","subject":"42","datacontenttype":"application/json","priority":5},"size":12,"dataPreview":"{\\"total\\":120}"}',
  '{"kind":"event","at":"2026-12-03T10:00:00.100Z","partition":0,"attrs":{"specversion":"1.0","id":"g-1","source":"/hello","type":"com.example.greeting"},"size":0}',
  '{"kind":"delivery","at":"2026-12-03T10:00:00.200Z","eventId":"o-1","route":"orders","hop":"subscriber","outcome":"retrying","status":503,"attempt":1}',
  '{"kind":"delivery","at":"2026-12-03T10:00:00.300Z","eventId":"g-1","route":"greetings","hop":"subscriber","outcome":"delivered","status":202,"attempt":1}',
  '{"kind":"delivery","at":"2026-12-03T10:00:01.000Z","eventId":"o-1","route":"orders","hop":"dls","outcome":"dead-lettered","status":503,"attempt":3}',
  '{"kind":"delivery","at":"2026-12-03T10:00:01.100Z","eventId":"before","route":"orders","hop":"subscriber","outcome":"delivered"}',
].map((l) => parseTailMessage(l)!);

function fed(limit?: number): TailModel {
  const m = new TailModel(limit);
  for (const msg of RECORDED) m.receive(msg);
  return m;
}

describe("tail model", () => {
  it("groups outcomes under their event, newest first", () => {
    const rows = fed().visible();
    expect(rows.map((r) => r.eventId)).toEqual(["before", "g-1", "o-1"]);
    const order = rows[2]!;
    expect(order.event?.attrs.type).toBe("com.example.order");
    expect(order.deliveries.map(outcomeText)).toEqual(["orders: retrying (503, attempt 1)", "orders dls: dead-lettered (503, attempt 3)"]);
  });

  it("filters with CESQL over attributes, extensions and JSON data", () => {
    const m = fed();
    const ids = (expr: string) => {
      expect(m.setFilter(expr)).toBeNull();
      return m.visible().map((r) => r.eventId);
    };
    expect(ids("type LIKE 'com.example.o%'")).toEqual(["o-1"]);
    expect(ids("priority > 3 AND EXISTS subject")).toEqual(["o-1"]);
    expect(ids("data.total >= 100")).toEqual(["o-1"]);
    expect(ids("source = '/hello'")).toEqual(["g-1"]);
    expect(ids("NOT EXISTS subject")).toEqual(["g-1"]);
    // Outcomes of an event the tail never saw cannot be judged: they show only without a filter.
    expect(ids("")).toEqual(["before", "g-1", "o-1"]);
  });

  it("reports an expression that does not parse and keeps the last good filter", () => {
    const m = fed();
    m.setFilter("type = 'com.example.greeting'");
    const err = m.setFilter("type = ");
    expect(err).toMatch(/./);
    expect(m.visible().map((r) => r.eventId)).toEqual(["g-1"]);
  });

  it("holds messages while paused and shows them on resume", () => {
    const m = new TailModel();
    m.receive(RECORDED[0]!);
    m.pause();
    for (const msg of RECORDED.slice(1)) m.receive(msg);
    expect(m.visible().map((r) => r.eventId)).toEqual(["o-1"]);
    expect(m.heldCount).toBe(RECORDED.length - 1);
    m.resume();
    expect(m.heldCount).toBe(0);
    expect(m.visible().map((r) => r.eventId)).toEqual(["before", "g-1", "o-1"]);
    expect(m.visible()[2]!.deliveries).toHaveLength(2);
  });

  it("keeps the newest rows within its limit, and a repeated id as a row of its own", () => {
    const m = new TailModel(3);
    const ev = (id: string): TailMessage => ({ kind: "event", at: "2026-12-03T10:00:00Z", partition: 0, size: 0, attrs: { specversion: "1.0", id, source: "/s", type: "t" } });
    for (const id of ["a", "b", "c", "d", "d"]) m.receive(ev(id));
    expect(m.visible().map((r) => r.eventId)).toEqual(["d", "d", "c"]);
    m.receive({ kind: "delivery", at: "2026-12-03T10:00:01Z", eventId: "d", route: "r", hop: "subscriber", outcome: "delivered", attempt: 1 });
    expect(m.visible()[0]!.deliveries).toHaveLength(1);
    expect(m.find(m.visible()[1]!.seq)!.deliveries).toHaveLength(0);
  });

  it("ignores what is not a tail message", () => {
    expect(parseTailMessage("not json")).toBeNull();
    expect(parseTailMessage('{"kind":"hello"}')).toBeNull();
    expect(parseTailMessage('{"kind":"event"}')).toBeNull();
  });
});

describe("the outcome of an event dropped before any delivery", () => {
  it("says dropped and why", () => {
    expect(outcomeText({ kind: "delivery", at: "2026-12-07T10:00:00Z", eventId: "e", route: "", hop: "subscriber", outcome: "dropped", attempt: 0, reason: "no-matching-trigger" })).toBe("dropped: no-matching-trigger");
    expect(outcomeText({ kind: "delivery", at: "2026-12-07T10:00:00Z", eventId: "e", route: "t", hop: "subscriber", outcome: "dropped", attempt: 2 })).toBe("t: dropped (attempt 2)");
  });
});

describe("the tail's subprotocol answer", () => {
  it("names eddy.tail.v1 only when the client offered it, never the token subprotocol", () => {
    expect(tailProtocolFor(undefined)).toBeUndefined();
    expect(tailProtocolFor("")).toBeUndefined();
    expect(tailProtocolFor("eddy.tail.v1")).toBe("eddy.tail.v1");
    expect(tailProtocolFor("base64url.bearer.authorization.k8s.io.dG9r, eddy.tail.v1")).toBe("eddy.tail.v1");
    expect(tailProtocolFor("base64url.bearer.authorization.k8s.io.dG9r")).toBeUndefined();
    expect(tailProtocolFor("eddy.tail.v2")).toBeUndefined();
    expect(tailUpgradeHeaders(null)).toEqual({});
    expect(tailUpgradeHeaders("eddy.tail.v1")).toEqual({ "Sec-WebSocket-Protocol": "eddy.tail.v1" });
  });
});
