import { describe, expect, it } from "vitest";
import { compile, CesqlParseError, matches, type CesqlResult } from "../../core/cesql/index.js";
import { compileLike } from "../../core/cesql/like.js";
import type { AttrValue, CloudEvent } from "../../core/cloudevents/event.js";
import { eventView } from "../../core/cloudevents/view.js";

const base = { specversion: "1.0", id: "1", source: "/s", type: "t" };
const event = (attrs: Record<string, AttrValue> = {}, data?: string, ct: string | null = "application/json"): CloudEvent => ({
  attrs: { ...base, ...attrs, ...(data !== undefined && ct !== null ? { datacontenttype: ct } : {}) },
  ...(data !== undefined ? { data: new TextEncoder().encode(data) } : {}),
});
const run = (expr: string, attrs: Record<string, AttrValue> = {}, data?: string, ct?: string | null): CesqlResult =>
  compile(expr).evaluate(eventView(event(attrs, data, ct)));
const value = (expr: string, attrs: Record<string, AttrValue> = {}) => {
  const r = run(expr, attrs);
  expect(r.error, `${expr}: ${r.error?.message}`).toBeUndefined();
  return r.value;
};
const parseError = (expr: string): CesqlParseError => {
  try {
    compile(expr);
  } catch (e) {
    expect(e).toBeInstanceOf(CesqlParseError);
    return e as CesqlParseError;
  }
  throw new Error(`${JSON.stringify(expr)} parsed`);
};

describe("parse errors carry the position and the reason", () => {
  it("formats the message as 'CESQL parse error at position N: reason'", () => {
    const e = parseError("(type = 'a'");
    expect(e.position).toBe(11);
    expect(e.reason).toBe("expected ')' but found end of input");
    expect(e.message).toBe("CESQL parse error at position 11: expected ')' but found end of input");
  });
  it.each([
    ["ABC(", 4, /expected an argument or '\)' but found end of input/],
    ["CONCAT(1 2)", 9, /expected ',' or '\)' but found integer 2/],
    ["type = ", 7, /expected a value.* but found end of input/],
    ["a = 1 AND", 9, /expected a value/],
    ["type = 'a' 'b'", 11, /expected an operator or end of input but found string "b"/],
    ["'open", 0, /not closed with '/],
    ['"open\\"', 0, /not closed with "/],
    ["type LIKE 5", 10, /string literal pattern after LIKE but found integer 5/],
    ["type LIKE subject", 10, /string literal pattern/],
    ["1 IN ()", 6, /expected a value/],
    ["1 IN 2", 5, /'\(' to open the IN set/],
    ["1 IN (2, 3", 10, /',' or '\)' in the IN set/],
    ["2147483648", 0, /2147483648 does not fit in 32 bits/],
    ["-2147483649", 1, /-2147483649 does not fit in 32 bits/],
    ["+x", 1, /an integer after '\+'/],
    ["type # 1", 5, /unexpected character "#"/],
    ["type = 'a' && 1", 11, /unexpected character "&"/],
    ["EXISTS 'x'", 7, /expected an attribute name/],
    ["EXISTS", 6, /expected an attribute name but found end of input/],
    ["my_ext = 1", 0, /"my_ext" is not an attribute name/],
    ["data", 4, /after data/],
    ["data.", 5, /field name after '\.'/],
    ["data.0", 5, /field name/],
    ["data[x]", 5, /array index or a quoted key/],
    ["data['a'", 8, /expected '\]'/],
    ["EXISTS data", 11, /after data/],
  ])("%j: position %i", (expr, pos, reason) => {
    const e = parseError(expr);
    expect(e.position).toBe(pos);
    expect(e.message).toMatch(reason);
  });
  it("refuses nesting that would make evaluation recurse too deeply, and accepts reasonable depth", () => {
    expect(parseError(`${"(".repeat(80)}1${")".repeat(80)} = 1`).message).toMatch(/nested parentheses/);
    expect(parseError(`${"NOT ".repeat(80)}TRUE`).message).toMatch(/nested/);
    expect(parseError(Array.from({ length: 600 }, (_, i) => `type = 't${i}'`).join(" OR ")).message).toMatch(/too deeply nested.*IN/);
    expect(value(`${"(".repeat(30)}TRUE${")".repeat(30)}`)).toBe(true);
    expect(value(Array.from({ length: 300 }, (_, i) => `type = 't${i}'`).join(" OR ") + " OR type = 't'")).toBe(true);
    expect(value(`type IN (${Array.from({ length: 5000 }, (_, i) => `'t${i}'`).join(", ")}, 't')`)).toBe(true);
  });
});

describe("literals and lexing", () => {
  it("reads string escapes as the ANTLR lexer pairs them", () => {
    expect(value("'it''s'")).toBe("it's");
    expect(value("'it\\'s'")).toBe("it's");
    expect(value('"say \\"hi\\""')).toBe('say "hi"');
    expect(value("'a\\b'")).toBe("a\\b");
    expect(value("'a\\\\'")).toBe("a\\\\"); // `\\` is a pair, so the quote after it closes the string
    expect(value("''")).toBe("");
  });
  it("signs: folds - and + into integer literals; binary minus needs no space", () => {
    expect(value("-2147483648")).toBe(-2147483648);
    expect(value("+5")).toBe(5);
    expect(value("5 -1")).toBe(4);
    expect(value("--3")).toBe(3);
    expect(Object.is(value("-0"), 0)).toBe(true);
  });
  it("keywords, function names and identifiers are case-insensitive", () => {
    expect(value("true AnD nOt FaLsE")).toBe(true);
    expect(value("lower('A') = LoWeR('a')")).toBe(true);
    expect(value("TYPE = 't' AND Exists SOURCE")).toBe(true);
  });
  it("lexes a word starting with digits as an attribute name, as the ANTLR lexer does", () => {
    expect(value("EXISTS 1abc", { "1abc": "x" })).toBe(true);
    expect(value("1abc = 'x'", { "1abc": "x" })).toBe(true);
  });
  it("treats AND, OR and XOR as one level, left to right", () => {
    expect(value("TRUE OR FALSE AND FALSE")).toBe(false);
    expect(value("TRUE OR (FALSE AND FALSE)")).toBe(true);
    expect(value("TRUE XOR TRUE XOR TRUE")).toBe(true);
  });
  it("binds unary NOT tighter than LIKE, as the spec's precedence table says", () => {
    expect(run("NOT type LIKE 'a%'").value).toBe(false); // (NOT 't') LIKE 'a%': a cast error
    expect(run("NOT type LIKE 'a%'").error?.kind).toBe("cast");
    expect(value("type NOT LIKE 'a%'")).toBe(true);
    expect(value("NOT (type LIKE 'a%')")).toBe(true);
  });
});

describe("integers are int32", () => {
  it("wraps + - * like Go's int32 (sdk-go)", () => {
    expect(value("2147483647 + 1")).toBe(-2147483648);
    expect(value("-2147483648 - 1")).toBe(2147483647);
    expect(value("65536 * 65536")).toBe(0);
    expect(value("-2147483648 / -1")).toBe(-2147483648);
    expect(value("-(-2147483648)")).toBe(-2147483648);
  });
  it("truncates division toward zero; % takes the sign of the dividend", () => {
    expect(value("-7 / 2")).toBe(-3);
    expect(value("7 % -3")).toBe(1);
    expect(value("-7 % 3")).toBe(-1);
  });
  it("ABS(-2147483648) is 2147483647 with a math error", () => {
    expect(run("ABS(-2147483648)")).toMatchObject({ value: 2147483647, error: { kind: "math" } });
  });
  it("casts strings to int32 strictly", () => {
    expect(value("INT('+42')")).toBe(42);
    expect(value("INT('-0')")).toBe(0);
    for (const s of ["' 1'", "'1e3'", "'0x10'", "''", "'-'", "'2147483648'", "'1.0'"]) {
      expect(run(`INT(${s})`), s).toMatchObject({ value: 0, error: { kind: "cast" } });
    }
  });
});

describe("errors: every expression yields a value and possibly an error", () => {
  it("keeps only the first error, and a parent of a failed operand returns its zero value", () => {
    expect(run("missing / 0")).toMatchObject({ value: 0, error: { kind: "missingAttribute" } });
    expect(run("INT('x') + missing").error?.kind).toBe("cast");
    expect(run("missing + INT('x')").error?.kind).toBe("missingAttribute");
    expect(run("LENGTH(missing)")).toMatchObject({ value: 0, error: { kind: "missingAttribute" } });
    expect(run("'abc' + 1")).toMatchObject({ value: 0, error: { kind: "cast" } });
    expect(run("NOPE(missing)")).toMatchObject({ value: false, error: { kind: "missingFunction" } });
  });
  it("short-circuits AND and OR, but not XOR", () => {
    expect(run("FALSE AND (1 / 0 = 0)")).toEqual({ value: false });
    expect(run("TRUE OR missing")).toEqual({ value: true });
    expect(run("TRUE AND (1 / 0 = 0)")).toMatchObject({ value: false, error: { kind: "math" } });
    expect(run("FALSE XOR missing")).toMatchObject({ value: false, error: { kind: "missingAttribute" } });
  });
  it("does not carry an error from one evaluation to the next", () => {
    const expr = compile("myext = 'x'");
    expect(expr.evaluate(eventView(event()))).toMatchObject({ value: false, error: { kind: "missingAttribute" } });
    expect(expr.evaluate(eventView(event({ myext: "x" })))).toEqual({ value: true });
  });
  it("reports unknown functions and the static result type on the compiled expression", () => {
    expect(compile("NOPE(type) OR CONCAT_WS()").missingFunctions).toEqual(["NOPE/1", "CONCAT_WS/0"]);
    expect(compile("1 + 1").resultType).toBe("integer");
    expect(compile("UPPER(type)").resultType).toBe("string");
    expect(compile("type = 'x'").resultType).toBe("boolean");
    expect(compile("type").resultType).toBeUndefined();
  });
});

describe("casting and comparison", () => {
  it("picks the = overload from the right operand's type", () => {
    expect(value("TRUE = 'true'")).toBe(true);
    expect(value("TRUE = 'TRUE'")).toBe(false);
    expect(value("'TRUE' = TRUE")).toBe(true);
    expect(value("myint = '10'", { myint: 10 })).toBe(true);
    expect(value("'10' = myint", { myint: 10 })).toBe(true);
    expect(run("'ten' = myint", { myint: 10 })).toMatchObject({ value: false, error: { kind: "cast" } });
  });
  it("casts IN elements to the left operand's type, in order", () => {
    expect(value("1 IN ('1', 'a')")).toBe(true);
    expect(run("1 IN ('a', '1')")).toMatchObject({ value: false, error: { kind: "cast" } });
    expect(value("'x' IN (1, TRUE)")).toBe(false);
    expect(value("myint IN (9, 10)", { myint: 10 })).toBe(true);
    expect(value("myint NOT IN (type, 10)", { myint: 10, type: "10" })).toBe(false);
    expect(run("1 IN (missing, 1)").error?.kind).toBe("missingAttribute");
  });
});

describe("LIKE", () => {
  it("anchors, escapes, and lets a lone backslash match itself", () => {
    expect(value("'a.b.c' LIKE 'a.%'")).toBe(true);
    expect(value("'axbxc' LIKE 'a.%'")).toBe(false);
    expect(value("'100%' LIKE '100\\%'")).toBe(true);
    expect(value("'100x' LIKE '100\\%'")).toBe(false);
    expect(value("'a_b' LIKE 'a\\_b'")).toBe(true);
    expect(value("'axb' LIKE 'a\\_b'")).toBe(false);
    expect(value("'a\\b' LIKE 'a\\b'")).toBe(true);
    expect(value("'ABC' LIKE 'abc'")).toBe(false);
  });
  it("matches every pattern shape, including the fast paths", () => {
    const cases: [string, string, boolean][] = [
      ["", "", true], ["", "a", false], ["%", "", true], ["%", "anything", true],
      ["abc", "abc", true], ["abc", "abcd", false], ["ab%", "abc", true], ["ab%", "xab", false],
      ["%bc", "abc", true], ["%bc", "bcd", false], ["%b%", "abc", true], ["%b%", "ac", false],
      ["a%c", "abbc", true], ["a%c", "ac", true], ["a%c", "abcd", false], ["a%a", "a", false],
      ["_", "a", true], ["_", "", false], ["a_c", "abc", true], ["a_c", "ac", false],
      ["%a_c%", "xxabcxx", true], ["a%b%c", "aXbYc", true], ["a%b%c", "acb", false], ["%%%", "x", true],
      ["_x", "😀x", true], ["__x", "😀x", false], ["%😀", "a😀", true],
    ];
    for (const [pattern, s, want] of cases) expect(compileLike(pattern)(s), `${JSON.stringify(s)} LIKE ${JSON.stringify(pattern)}`).toBe(want);
  });
  it("runs in polynomial time on a pattern that makes naive backtracking explode", () => {
    const start = performance.now();
    expect(value(`'${"a".repeat(5000)}' LIKE '${"%a".repeat(30)}%b'`)).toBe(false);
    expect(performance.now() - start).toBeLessThan(2000);
  });
  it("casts a non-string operand to String, and NOT LIKE negates", () => {
    expect(value("234 LIKE '23_'")).toBe(true);
    expect(value("TRUE LIKE 'tr%'")).toBe(true);
    expect(value("type NOT LIKE 'x%'")).toBe(true);
    expect(run("missing LIKE 'x'")).toMatchObject({ value: false, error: { kind: "missingAttribute" } });
  });
});

describe("built-in functions", () => {
  it("count and slice by code point", () => {
    expect(value("LENGTH('😀')")).toBe(1);
    expect(value("LEFT('😀ab', 1)")).toBe("😀");
    expect(value("RIGHT('ab😀', 1)")).toBe("😀");
    expect(value("SUBSTRING('a😀c', 2, 1)")).toBe("😀");
    expect(value("SUBSTRING('a😀c', -1)")).toBe("c");
  });
  it("TRIM strips Unicode white space only", () => {
    expect(value("TRIM('\u00a0\u0085\u3000 x \t\n')")).toBe("x");
    expect(value("LENGTH(TRIM('\ufeffx'))")).toBe(2);
    expect(value("LENGTH(TRIM('\u0001x'))")).toBe(2);
  });
  it("casts arguments to the parameter types", () => {
    expect(value("CONCAT(1, TRUE, 'x')")).toBe("1truex");
    expect(value("CONCAT_WS('-', 'a', 2, FALSE)")).toBe("a-2-false");
    expect(value("LENGTH(TRUE)")).toBe(4);
    expect(value("LEFT('abc', '2')")).toBe("ab");
    expect(run("LEFT('abc', 'two')")).toMatchObject({ value: "", error: { kind: "cast" } });
  });
  it("returns the spec's value beside a functionEvaluation error", () => {
    expect(run("RIGHT('abc', -1)")).toMatchObject({ value: "abc", error: { kind: "functionEvaluation" } });
    expect(run("SUBSTRING('abc', 1, -1)")).toMatchObject({ value: "", error: { kind: "functionEvaluation" } });
  });
  it("calls to unknown names or arities are false with missingFunction", () => {
    expect(run("NOPE()")).toMatchObject({ value: false, error: { kind: "missingFunction" } });
    expect(run("LENGTH('a', 'b')")).toMatchObject({ value: false, error: { kind: "missingFunction" } });
    expect(run("CONSTRUCTOR('a')").error?.kind).toBe("missingFunction");
  });
});

describe("data access (Eddy extension)", () => {
  const order = JSON.stringify({
    total: 150, big: 3e10, ratio: 0.5, gold: true, zero: -0, customer: { tier: "gold", "first-name": "Ada", "it's": 1 },
    items: [{ sku: "A1" }, { sku: "B2" }], matrix: [[1, 2], [3, 4]], nothing: null, type: "inner", in: "kw", "": "empty",
  });
  const d = (expr: string, data = order, ct?: string | null) => run(expr, {}, data, ct);

  it("reads strings, integers and booleans by path", () => {
    expect(d("data.customer.tier").value).toBe("gold");
    expect(d("data.total + 1").value).toBe(151);
    expect(d("data.gold").value).toBe(true);
    expect(Object.is(d("data.zero").value, 0)).toBe(true);
    expect(d("data.items[1].sku").value).toBe("B2");
    expect(d("data.matrix[1][0]").value).toBe(3);
    expect(d("data.customer['first-name']").value).toBe("Ada");
    expect(d("data['customer']['it\\'s']").value).toBe(1);
    expect(d("data['']").value).toBe("empty");
    expect(d("DATA.customer.tier = 'gold'").value).toBe(true);
  });
  it("takes keywords as field names and keeps the JSON's case", () => {
    expect(d("data.type").value).toBe("inner");
    expect(d("data.in").value).toBe("kw");
    expect(d("data.Total").error?.kind).toBe("missingAttribute");
  });
  it("combines with every operator", () => {
    expect(d("data.total IN (100, 150)").value).toBe(true);
    expect(d("data.customer.tier LIKE 'g%'").value).toBe(true);
    expect(d("UPPER(data.customer.tier) = 'GOLD' AND data.gold").value).toBe(true);
    expect(d("data.total > 100 AND type = 't'").value).toBe(true);
  });
  it("reads absent paths, null, fractions, big numbers, objects and arrays as missing", () => {
    for (const expr of ["data.nope", "data.nothing", "data.ratio", "data.big", "data.customer", "data.items", "data.items[5].sku", "data.items.sku", "data.customer[0]", "data.total.x"]) {
      expect(d(expr), expr).toMatchObject({ value: false, error: { kind: "missingAttribute" } });
    }
    expect(d("data.ratio").error?.message).toBe("data.ratio is the number 0.5, which is not a 32-bit integer");
    expect(d("data.customer").error?.message).toBe("data.customer is an object");
    expect(d("data.nothing = 'x'").value).toBe(false);
  });
  it("never reaches Object.prototype", () => {
    expect(d("data.constructor").error?.kind).toBe("missingAttribute");
    expect(d("EXISTS data.toString").value).toBe(false);
    expect(d("EXISTS data.__proto__").value).toBe(false);
    expect(d("data.__proto__.x", '{"__proto__": {"x": "own"}}').value).toBe("own");
  });
  it("sees only JSON data: by content type, implied by structured mode, and parseable", () => {
    expect(d("data.total", order, "application/vnd.order+json").value).toBe(150);
    expect(d("data.total", order, "application/json; charset=utf-8").value).toBe(150);
    expect(d("data.total", "total=1", "text/plain").error?.kind).toBe("missingAttribute");
    expect(d("data.total", "{broken", "application/json").error?.kind).toBe("missingAttribute");
    expect(d("data.total", order, null).error?.kind).toBe("missingAttribute");
    const implied = { ...event({}, order, null), impliedJson: true };
    expect(compile("data.total").evaluate(eventView(implied)).value).toBe(150);
    expect(run("data.total").error?.message).toBe("data.total is absent (or the data is not JSON)");
  });
  it("EXISTS is true for any non-null value at the path", () => {
    expect(d("EXISTS data.customer").value).toBe(true);
    expect(d("EXISTS data.items[1]").value).toBe(true);
    expect(d("EXISTS data.ratio").value).toBe(true);
    expect(d("EXISTS data.nothing").value).toBe(false);
    expect(d("EXISTS data.nope").value).toBe(false);
    expect(run("EXISTS data.x").value).toBe(false);
  });
  it("parses the data once per view, however many expressions read it", () => {
    const view = eventView(event({}, order));
    let parses = 0;
    const counting = { ...view, json: () => (parses++, view.json()) };
    for (const e of ["data.total = 150", "data.customer.tier = 'gold'", "EXISTS data.items"]) expect(matches(compile(e), counting)).toBe(true);
    expect(parses).toBe(3);
    expect(view.json()).toBe(view.json());
  });
});

describe("matches()", () => {
  it("passes only Boolean true with no error", () => {
    const v = eventView(event({ mybool: true, myint: 1 }));
    expect(matches(compile("mybool"), v)).toBe(true);
    expect(matches(compile("myint"), v)).toBe(false);
    expect(matches(compile("'true'"), v)).toBe(false);
    expect(matches(compile("missing OR TRUE"), v)).toBe(false);
    expect(matches(compile("TRUE OR missing"), v)).toBe(true);
  });
  it("works with any CompiledExpression, not only compile()'s", () => {
    const fake = { source: "x", missingFunctions: [], resultType: undefined, evaluate: () => ({ value: true }) };
    expect(matches(fake, eventView(event()))).toBe(true);
    expect(matches({ ...fake, evaluate: () => ({ value: true, error: { kind: "generic" as const, message: "x" } }) }, eventView(event()))).toBe(false);
  });
});
