// The archive's pure parts (core/archive.ts), and the ledger's promise to it: an archived event
// leaves the ledger only once the archive has written it.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  archiveKey, archiveLine, archiveRetentionMs, parseArchive, parseArchiveKey, parseRfc3339, validateArchiveRetention,
} from "../../core/archive.js";
import { ev, ledgerFixture, route } from "../support/memory-ledger.js";

describe("archive format", () => {
  it("keys sort in acceptance order and give back the first event's time and seq", () => {
    const keys = [archiveKey("ns/b#2", 1_700_000_000_500, 12), archiveKey("ns/b#2", 1_700_000_000_000, 3), archiveKey("ns/b#2", 1_700_000_001_000, 40)];
    expect([...keys].sort().map((k) => parseArchiveKey(k)!.firstSeq)).toEqual([3, 12, 40]);
    expect(keys[0]).toBe("archive/ns/b#2/1700000000500-000000000012.ndjson");
    expect(parseArchiveKey(keys[0]!)).toEqual({ firstMs: 1_700_000_000_500, firstSeq: 12 });
    expect(parseArchiveKey("archive/x/readme.txt")).toBeUndefined();
  });

  it("a line gives back the event exactly: attribute types, bytes, implied JSON", () => {
    fc.assert(fc.property(
      fc.dictionary(fc.stringMatching(/^[a-z0-9]{1,8}$/), fc.oneof(fc.string(), fc.integer(), fc.boolean())),
      fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null }),
      fc.boolean(),
      (attrs, data, implied) => {
        const line = archiveLine(7, 123, 200, JSON.stringify(attrs), data, implied);
        expect(line.endsWith("\n")).toBe(true);
        const [back] = parseArchive(line);
        expect(back!.seq).toBe(7);
        expect(back!.at).toBe(123);
        expect(back!.ttl).toBe(200);
        expect(back!.event.attrs).toEqual(attrs);
        expect(back!.event.data ?? null).toEqual(data);
        expect(back!.event.impliedJson ?? false).toBe(implied);
      },
    ), { seed: 13, numRuns: 200 });
  });

  it("skips a damaged line and says which", () => {
    const bad: number[] = [];
    const text = archiveLine(1, 1, 1, '{"id":"a"}', null, false) + "{oops\n" + archiveLine(2, 2, 1, '{"id":"b"}', null, false);
    expect(parseArchive(text, (line) => bad.push(line)).map((e) => e.seq)).toEqual([1, 2]);
    expect(bad).toEqual([2]);
  });

  it("reads the retention annotation: off when absent or PT0S, refused when not a duration or over a year", () => {
    expect(archiveRetentionMs(undefined)).toBeUndefined();
    expect(archiveRetentionMs({ "eddy.dev/archive-retention": "PT0S" })).toBeUndefined();
    expect(archiveRetentionMs({ "eddy.dev/archive-retention": "P7D" })).toBe(7 * 86_400_000);
    expect(validateArchiveRetention({ "eddy.dev/archive-retention": "P7D" })).toEqual([]);
    expect(validateArchiveRetention({ "eddy.dev/archive-retention": "7d" })[0]!.message).toContain("ISO-8601");
    expect(validateArchiveRetention({ "eddy.dev/archive-retention": "P400D" })[0]!.message).toContain("P366D");
  });

  it("takes RFC 3339 times with a zone, nothing else", () => {
    expect(parseRfc3339("2026-12-03T10:00:00Z")).toBe(Date.UTC(2026, 11, 3, 10));
    expect(parseRfc3339("2026-12-03T11:00:00.250+01:00")).toBe(Date.UTC(2026, 11, 3, 10) + 250);
    for (const v of ["2026-12-03", "2026-12-03T10:00:00", "yesterday", 1700000000000, null]) expect(parseRfc3339(v)).toBeUndefined();
  });
});

describe("ledger and archive", () => {
  it("keeps a batch with an archived event after its deliveries are done, until the archive wrote it; drops one without", async () => {
    const f = ledgerFixture([route("a")]);
    await f.job(() => f.ledger.record(ev("kept"), 254, ["a"], 1000, true));
    await f.job(() => f.ledger.record(ev("gone"), 254, ["a"], 1000));
    for (const d of f.transport.take()) await f.job(() => f.ledger.settle([f.transport.outcome(d)], 1010));
    expect(f.ledger.pending()).toBe(0);
    const waiting = f.store.archiveWaiting(10);
    expect(waiting.map((b) => b.events.map((e) => [e.event.attrs.id, e.archive]))).toEqual([[["kept", true]]]);
    expect(f.store.batches()).toHaveLength(1);
    await f.job(() => f.ledger.archived(waiting.map((b) => b.id)));
    expect(f.store.batches()).toHaveLength(0);
  });

  it("stores an event no route takes when the archive wants it, with no delivery", async () => {
    const f = ledgerFixture([route("a")]);
    await f.job(() => f.ledger.record(ev("lonely"), 254, [], 1000, true));
    expect(f.store.archiveWaiting(10)[0]!.events[0]!.event.attrs.id).toBe("lonely");
    expect(f.ledger.pending()).toBe(0);
    expect(f.transport.take()).toEqual([]);
  });

  it("marks a batch written when deliveries still need it, and deletes it with the last one", async () => {
    const f = ledgerFixture([route("a")]);
    await f.job(() => f.ledger.record(ev("e1"), 254, ["a"], 1000, true));
    const [d] = f.transport.take();
    const [b] = f.store.archiveWaiting(10);
    await f.job(() => f.ledger.archived([b!.id]));
    expect(f.store.archiveWaiting(10)).toEqual([]);
    expect(f.store.batches()).toHaveLength(1);
    await f.job(() => f.ledger.settle([f.transport.outcome(d!)], 1010));
    expect(f.store.batches()).toHaveLength(0);
  });
});
