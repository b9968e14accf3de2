// Deep nesting in events: the shared depth checks and every codec path that uses them.
import { describe, expect, it } from "vitest";
import { CloudEventError, parseMessage, validateEvent } from "../../core/cloudevents/http.js";
import { eventView, NO_JSON } from "../../core/cloudevents/view.js";
import { readData } from "../../core/cesql/data.js";
import { fieldPath, jsonChildren, jsonTooDeepAt, MAX_JSON_DEPTH, treeTooDeep } from "../../core/nesting.js";

const enc = new TextEncoder();
const nested = (n: number, inner = "1") => "[".repeat(n) + inner + "]".repeat(n);
const objNested = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
const CE = { "ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t" };
const envelope = (data: string) => `{"specversion":"1.0","id":"1","source":"/s","type":"t","data":${data}}`;

const binary = (body: string, type = "application/json") => parseMessage(new Headers({ ...CE, "Content-Type": type }), enc.encode(body));
const structured = (body: string) => parseMessage(new Headers({ "Content-Type": "application/cloudevents+json" }), enc.encode(body));
const batch = (body: string) => parseMessage(new Headers({ "Content-Type": "application/cloudevents-batch+json" }), enc.encode(body));

function refusal(fn: () => unknown): CloudEventError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CloudEventError);
    return e as CloudEventError;
  }
  throw new Error("expected a CloudEventError");
}

describe("jsonTooDeepAt", () => {
  it("gives the offset of the bracket that opens the first level past the limit", () => {
    expect(jsonTooDeepAt(enc.encode('{"a":[[1]]}'), 2)).toBe(6);
    expect(jsonTooDeepAt(enc.encode('{"a":[[1]]}'), 3)).toBe(-1);
    expect(jsonTooDeepAt(enc.encode(nested(64)), 64)).toBe(-1);
    expect(jsonTooDeepAt(enc.encode(nested(65)), 64)).toBe(64);
  });

  it("stops at the limit on truncated input: 5,000 `[` are caught at byte 64", () => {
    expect(jsonTooDeepAt(enc.encode("[".repeat(5000)), 64)).toBe(64);
  });

  it("does not count brackets inside strings, escaped quotes included", () => {
    expect(jsonTooDeepAt(enc.encode('["[[[[", "{{{{"]'), 1)).toBe(-1);
    expect(jsonTooDeepAt(enc.encode('["a\\"[[[", 1]'), 1)).toBe(-1);
    expect(jsonTooDeepAt(enc.encode('["a\\\\", [1]]'), 1)).toBe(8); // \\ ends in a real quote
    expect(jsonTooDeepAt(enc.encode(`["${"x".repeat(100)}\\"[[", [[1]]]`), 2)).toBe(110);
  });

  it("counts bytes, not characters, after multi-byte UTF-8", () => {
    expect(jsonTooDeepAt(enc.encode(`["€", [1]]`), 1)).toBe(8); // € is bytes 2-4
  });

  it("treats an unterminated string as running to the end", () => {
    expect(jsonTooDeepAt(enc.encode('["[[[[[['), 1)).toBe(-1);
  });
});

describe("treeTooDeep", () => {
  it("reports the path to the first container past the limit", () => {
    const hit = treeTooDeep({ spec: { a: [{ b: [] }] } }, 4, jsonChildren);
    expect(hit?.path).toEqual(["spec", "a", 0, "b"]);
    expect(fieldPath(hit!.path)).toBe("spec.a[0].b");
    expect(treeTooDeep({ spec: { a: [{ b: [] }] } }, 5, jsonChildren)).toBeUndefined();
  });

  it("counts scalars as no level", () => {
    expect(treeTooDeep(1, 0, jsonChildren)).toBeUndefined();
    expect(treeTooDeep([1, "x", null], 1, jsonChildren)).toBeUndefined();
  });

  it("walks a shared-node graph in linear time and finds a cycle", () => {
    let node: unknown[] = [];
    for (let i = 0; i < 60; i++) node = [node, node]; // 2^60 paths, 61 distinct nodes
    expect(treeTooDeep(node, 64, jsonChildren)).toBeUndefined();
    expect(treeTooDeep(node, 60, jsonChildren)?.path).toHaveLength(60);
    const cyclic: unknown[] = [];
    cyclic.push({ again: cyclic });
    expect(treeTooDeep(cyclic, 64, jsonChildren)).toBeDefined();
  });

  it("handles a million levels without recursion", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(treeTooDeep(deep, 64, jsonChildren)?.path).toHaveLength(64);
  });

  it("shortens long paths in messages", () => {
    expect(fieldPath(["a", 0, "b", 1, "c", 2, "d"])).toBe("a[0].b[1].c[2]…");
    expect(fieldPath([])).toBe("(the root)");
  });
});

describe("the codec refuses JSON nested deeper than MAX_JSON_DEPTH", () => {
  it("refuses the reported batch of 5,000 `[` with a message naming the limit", () => {
    const e = refusal(() => batch("[".repeat(5000)));
    expect(e.status).toBe(400);
    expect(e.message).toContain("the batch body nests JSON deeper than 66 levels");
    expect(e.message).toContain("data may nest 64");
    expect(e.message).toContain("at byte 66");
  });

  it("accepts data exactly MAX_JSON_DEPTH deep in every mode, and refuses one level more in every mode", () => {
    const ok = nested(MAX_JSON_DEPTH);
    expect(binary(ok).events[0]!.data).toEqual(enc.encode(ok));
    expect(structured(envelope(ok)).events).toHaveLength(1);
    expect(batch(`[${envelope(ok)}]`).events).toHaveLength(1);
    const deep = nested(MAX_JSON_DEPTH + 1);
    expect(refusal(() => binary(deep)).message).toMatch(/^the event data \(in binary mode, the request body\) nests JSON deeper than 64 levels: level 65 opens at byte 64; flatten the data/);
    expect(refusal(() => structured(envelope(deep))).message).toMatch(/^the structured-mode body nests JSON deeper than 65 levels/);
    expect(refusal(() => batch(`[${envelope(deep)}]`)).message).toMatch(/^the batch body nests JSON deeper than 66 levels/);
  });

  it("refuses deep objects as well as arrays, and deep bodies that are not even valid JSON", () => {
    expect(refusal(() => binary(objNested(200))).message).toContain("deeper than 64 levels");
    expect(refusal(() => structured("{".repeat(5000))).message).toContain("deeper than 65 levels");
    expect(refusal(() => binary("[".repeat(100_000), "application/vnd.example+json")).message).toContain("deeper than 64 levels");
  });

  it("checks decoded data_base64 under a JSON content type", () => {
    const body = JSON.stringify({ specversion: "1.0", id: "1", source: "/s", type: "t", datacontenttype: "application/json", data_base64: btoa(nested(70)) });
    expect(refusal(() => structured(body)).message).toContain("deeper than 64 levels");
  });

  it("checks events built by Eddy itself (webhooks, sources) through validateEvent", () => {
    const ev = { attrs: { specversion: "1.0", id: "1", source: "/s", type: "t", datacontenttype: "application/json" }, data: enc.encode(objNested(65)) };
    expect(refusal(() => validateEvent(ev)).message).toContain("nests JSON deeper than 64 levels");
  });

  it("leaves data that is not JSON alone: opaque bytes are never parsed", () => {
    expect(binary("[".repeat(5000), "text/plain").events[0]!.data!.length).toBe(5000);
  });

  it("reads deep JSON data already stored (before the limit) at filter time without recursing", () => {
    const ev = { attrs: { specversion: "1.0", id: "1", source: "/s", type: "t", datacontenttype: "application/json" }, data: enc.encode(nested(100_000)) };
    const view = eventView(ev);
    expect(view.json()).not.toBe(NO_JSON);
    expect(Array.isArray(readData(view, [0, 0, 0]))).toBe(true);
    expect(readData(view, [0, 1])).toBeUndefined();
  });
});
