import { describe, expect, it } from "vitest";
import { compile, CesqlParseError } from "../../core/cesql/index.js";
import { eventView } from "../../core/cloudevents/view.js";

const base = { specversion: "1.0", id: "1", source: "/s", type: "t" };
const run = (expr: string, attrs: Record<string, string | number | boolean> = {}, data?: string, ct = "application/json") =>
  compile(expr).evaluate(eventView({
    attrs: { ...base, ...attrs, ...(data !== undefined ? { datacontenttype: ct } : {}) },
    ...(data !== undefined ? { data: new TextEncoder().encode(data) } : {}),
  }));

describe("parsing", () => {
  it.each([
    ["ABC(", 4, /expected/],
    ["type = ", 7, /expected a value/],
    ["'open", 0, /not closed/],
    ["type LIKE 5", 10, /string literal pattern/],
    ["1 IN ()", 6, /expected a value/],
    ["2147483648", 0, /32 bits/],
    ["type # 1", 5, /unexpected character/],
    ["data", 0, /data needs a path/],
  ])("%j fails at position %i", (expr, pos, reason) => {
    try {
      compile(expr);
      throw new Error("parsed");
    } catch (e) {
      expect(e).toBeInstanceOf(CesqlParseError);
      expect((e as CesqlParseError).position).toBe(pos);
      expect((e as Error).message).toMatch(reason);
    }
  });
  it("accepts -2147483648 as a literal and wraps int32 arithmetic like sdk-go", () => {
    expect(run("-2147483648").value).toBe(-2147483648);
    expect(run("2147483647 + 1").value).toBe(-2147483648);
    expect(run("65536 * 65536").value).toBe(0);
  });
  it("treats AND/OR left to right at one level", () => {
    expect(run("TRUE OR FALSE AND FALSE").value).toBe(false);
    expect(run("TRUE OR (FALSE AND FALSE)").value).toBe(true);
  });
});

describe("LIKE", () => {
  it("anchors, escapes and handles backtracking without regex", () => {
    expect(run("'a.b.c' LIKE 'a.%'").value).toBe(true);
    expect(run("'axbxc' LIKE 'a.%'").value).toBe(false);
    expect(run("'100%' LIKE '100\\%'").value).toBe(true);
    expect(run("'aaaaaaaaaaaaaaaaaaaaaaaaaaaaab' LIKE '%a%a%a%a%a%a%c'").value).toBe(false);
    expect(run("'😀x' LIKE '_x'").value).toBe(true);
  });
});

describe("data access (Eddy extension)", () => {
  const order = JSON.stringify({ total: 150, big: 3e10, ratio: 0.5, gold: true, customer: { tier: "gold", "first-name": "Ada" }, items: [{ sku: "A1" }], nothing: null });
  it("reads strings, integers and booleans by path", () => {
    expect(run("data.customer.tier", {}, order).value).toBe("gold");
    expect(run("data.total + 1", {}, order).value).toBe(151);
    expect(run("data.gold", {}, order).value).toBe(true);
    expect(run("data.items[0].sku", {}, order).value).toBe("A1");
    expect(run("data.customer['first-name']", {}, order).value).toBe("Ada");
    expect(run("DATA.customer.tier = 'gold'", {}, order).value).toBe(true);
  });
  it("reports missing for absent paths, null, fractions, big numbers, objects and non-JSON data", () => {
    for (const expr of ["data.nope", "data.nothing", "data.ratio", "data.big", "data.customer", "data.items[5].sku"]) {
      expect(run(expr, {}, order).error?.kind, expr).toBe("missingAttribute");
    }
    expect(run("data.total", {}, "total=1", "text/plain").error?.kind).toBe("missingAttribute");
    expect(run("data.total", {}, "{broken", "application/json").error?.kind).toBe("missingAttribute");
  });
  it("EXISTS is true for any non-null value at the path", () => {
    expect(run("EXISTS data.customer", {}, order).value).toBe(true);
    expect(run("EXISTS data.nothing", {}, order).value).toBe(false);
    expect(run("EXISTS data.nope", {}, order).value).toBe(false);
    expect(run("EXISTS data.x").value).toBe(false);
  });
});
