import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { checkExpression, compileTransform, lineColumn } from "../../core/transform/jsonata.js";
import { transformInput, transformOutput } from "../../core/transform/event-json.js";
import type { CloudEvent } from "../../core/cloudevents/event.js";

const EXAMPLES = resolve(import.meta.dirname, "..", "fixtures", "knative-examples");
const read = (p: string) => readFileSync(resolve(EXAMPLES, p), "utf8");
const manifests = (p: string) => parseAllDocuments(read(p)).map((d) => d.toJS());
const expressionOf = (p: string) => manifests(p).find((m) => m.kind === "EventTransform").spec.jsonata.expression as string;
const enc = new TextEncoder();

function ev(attrs: Record<string, string>, data?: unknown): CloudEvent {
  return {
    attrs: { specversion: "1.0", id: "1", source: "/s", type: "t", ...(data !== undefined ? { datacontenttype: "application/json" } : {}), ...attrs },
    ...(data !== undefined ? { data: enc.encode(JSON.stringify(data)) } : {}),
  };
}

describe("Knative's documented JSONata examples", () => {
  it("Restructuring Event Data gives the documented output for the documented input", async () => {
    const t = compileTransform(read("jsonata/restructuring.jsonata"));
    const r = (await t.evaluate(JSON.parse(read("jsonata/restructuring.input.json")))) as { value: unknown };
    // As JSON, which is what is sent: JSONata's arrays carry bookkeeping properties of their own.
    expect(JSON.parse(JSON.stringify(r.value))).toEqual(JSON.parse(read("jsonata/restructuring.output.json")));
  });

  it("Array Processing gives the documented output, but for the time $now() stamps", async () => {
    const t = compileTransform(read("jsonata/array-processing.jsonata"));
    const r = (await t.evaluate(JSON.parse(read("jsonata/array-processing.input.json")))) as { value: unknown };
    const got = JSON.parse(JSON.stringify(r.value));
    const want = JSON.parse(read("jsonata/array-processing.output.json"));
    expect(got.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect({ ...got, time: want.time }).toEqual(want);
  });

  it("every example manifest's expression compiles, except the reply-transformation one, which is not JSONata", () => {
    for (const f of ["extract-user-id", "format-converter", "event-enricher", "broker-reply", "simple-transform", "user-registration-transformer", "order-processor"]) {
      expect(checkExpression(expressionOf(`eventtransform/${f}.yaml`), "spec.jsonata.expression"), f).toEqual([]);
    }
    // "# Request transformation": # is not a comment in JSONata (comments are /* */).
    expect(checkExpression(expressionOf("eventtransform/request-reply-transform.yaml"), "spec.jsonata.expression")).toEqual([{
      field: "spec.jsonata.expression",
      message: 'is not valid JSONata at line 1, column 1: The symbol "#" cannot be used as a unary operator (S0211); JSONata comments are written /* like this */, not with #',
    }]);
  });

  it("Field Extraction promotes data.user.id to an attribute and keeps the whole event as data", async () => {
    const input = ev({ id: "e-7", type: "user.created", time: "2025-01-02T03:04:05Z" }, { user: { id: "u-42", name: "Ada" } });
    const r = (await compileTransform(expressionOf("eventtransform/extract-user-id.yaml")).evaluate(transformInput(input))) as { value: unknown };
    const out = transformOutput(r.value, 262144);
    expect(out.attrs).toEqual({ specversion: "1.0", id: "e-7", type: "user.extracted", source: "transform.user-extractor", time: "2025-01-02T03:04:05Z", userid: "u-42" });
    expect(JSON.parse(new TextDecoder().decode(out.data))).toEqual({ ...input.attrs, data: { user: { id: "u-42", name: "Ada" } } });
  });
});

describe("the jsonata package", () => {
  it("makes no code from strings, which workerd refuses: no eval, no Function constructor", () => {
    const src = readFileSync(resolve(import.meta.dirname, "..", "..", "node_modules", "jsonata", "jsonata.js"), "utf8");
    expect(src).not.toMatch(/\beval\s*\(/);
    expect(src).not.toMatch(/new\s+Function\s*\(|\bFunction\s*\(\s*["'`]/);
  });
});

describe("Knative's User Registration example", () => {
  it("works when the user has a name; without one it calls $indexOf, which JSONata does not have, and says so", async () => {
    const t = compileTransform(expressionOf("eventtransform/user-registration-transformer.yaml"));
    const input = (user: Record<string, string>) => transformInput(ev({ id: "r-1" }, { user }));
    const named = (await t.evaluate(input({ id: "u-1", email: "Ada@Example.COM", name: "Ada L" }))) as { value: Record<string, unknown> };
    expect(JSON.parse(JSON.stringify(named.value))).toMatchObject({ type: "user.registered.processed", userid: "u-1", region: "unknown", tier: "free", data: { email: "ada@example.com", displayName: "Ada L" } });
    expect(await t.evaluate(input({ id: "u-1", email: "ada@example.com" }))).toEqual({
      error: "at line 13, column 93: Attempted to invoke a non-function (T1006): $indexOf is not a JSONata function (see https://docs.jsonata.org/string-functions)",
    });
  });
});

describe("admission of expressions", () => {
  it("names line and column of a syntax error in a multi-line expression", () => {
    expect(checkExpression('{\n  "id": id,\n  "type": ,\n}', "spec.reply.jsonata.expression")).toEqual([{
      field: "spec.reply.jsonata.expression",
      message: 'is not valid JSONata at line 3, column 11: The symbol "," cannot be used as a unary operator (S0211)',
    }]);
    expect(lineColumn("ab\ncd", 5)).toEqual({ line: 2, column: 2 });
  });

  it("refuses a missing or empty expression", () => {
    expect(checkExpression(undefined, "f")[0]!.message).toMatch(/^is required/);
    expect(checkExpression("  ", "f")[0]!.message).toMatch(/^is required/);
  });
});

describe("evaluation limits", () => {
  it("stops endless recursion, a loop past the time bound, long sequences and growing strings, naming each", async () => {
    const run = (src: string) => compileTransform(src, { timeoutMs: 50, depth: 200, sequence: 1000, stringChars: 1000 }).evaluate({});
    expect(await run("($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))")).toEqual({ error: expect.stringMatching(/Stack overflow.*\(D1011\)$/) });
    expect(await run("($loop := function($n){ $loop($n + 1) }; $loop(0))")).toEqual({ error: expect.stringMatching(/\(D1011\)$|\(D1012\)$/) });
    expect(await run("$count([1..5000])")).toEqual({ error: expect.stringContaining("(D2015)") });
    expect(await run('($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $f("xy", 30))')).toEqual({ error: expect.stringMatching(/a string of \d+ characters is longer than the 1000-character event limit/) });
    expect(await run('$pad("x", 100000000)')).toEqual({ error: expect.stringContaining("a string of 100000000 characters") });
  });

  it("a loop that never deepens stops at the time bound", async () => {
    const t = compileTransform("$reduce([1..900], function($a, $v){ $reduce([1..900], function($b, $w){ $b + $w }, $a) }, 0)", { timeoutMs: 30, depth: 500, sequence: 100_000, stringChars: 1000 });
    const started = Date.now();
    expect(await t.evaluate({})).toEqual({ error: expect.stringContaining("Evaluation timeout after 30 milliseconds") });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("$pad still pads as JSONata's does, within the bound", async () => {
    const r = (await compileTransform('[$pad("ab", 5, "#"), $pad("ab", -5), $pad("abcdef", 3), $pad("x", 4, "xy")]').evaluate({})) as { value: unknown };
    expect(JSON.parse(JSON.stringify(r.value))).toEqual(["ab###", "   ab", "abcdef", "xxyx"]);
  });
});

describe("events in and out", () => {
  it("the input is the JSON event format: JSON data as a value, text as a string, bytes as data_base64", () => {
    expect(transformInput(ev({}, { a: [1, 2] }))).toEqual({ specversion: "1.0", id: "1", source: "/s", type: "t", datacontenttype: "application/json", data: { a: [1, 2] } });
    expect(transformInput({ attrs: { specversion: "1.0", id: "1", source: "/s", type: "t", datacontenttype: "text/plain" }, data: enc.encode("hi") }).data).toBe("hi");
    expect(transformInput({ attrs: { specversion: "1.0", id: "1", source: "/s", type: "t", datacontenttype: "application/octet-stream" }, data: new Uint8Array([0, 255]) }).data_base64).toBe("AP8=");
  });

  it("the result must be one valid CloudEvent within the size limit; each refusal says why", () => {
    expect(() => transformOutput(undefined, 1000)).toThrow(/yielded nothing/);
    expect(() => transformOutput([1], 1000)).toThrow(/yielded an array/);
    expect(() => transformOutput("x", 1000)).toThrow(/yielded a string/);
    expect(() => transformOutput({ specversion: "1.0", id: "1", type: "t" }, 1000)).toThrow(/not a valid CloudEvent: .*source/);
    expect(() => transformOutput({ specversion: "1.0", id: "1", source: "/s", type: "t", data: "x".repeat(2000) }, 1000)).toThrow(/bytes, over the 1000-byte event limit/);
    const out = transformOutput({ specversion: "1.0", id: "1", source: "/s", type: "t", count: 3, data: { a: 1 } }, 1000);
    expect(out.attrs).toEqual({ specversion: "1.0", id: "1", source: "/s", type: "t", count: 3 });
    expect(new TextDecoder().decode(out.data)).toBe('{"a":1}');
  });
});
