/**
 * The subset of Kubernetes JSONPath that CRD printer columns use, evaluated on the server for
 * Table output: `.a.b`, escaped dots (`.metadata.annotations.eventing\.knative\.dev/broker\.class`),
 * `['key']`, `[0]`, `[*]` and filters `[?(@.type=="Ready")]`. Returns every value found, in order.
 *
 * @example
 * evaluate('.status.conditions[?(@.type=="Ready")].status', broker); // ["True"]
 */
export function evaluate(path: string, root: unknown): unknown[] {
  let values: unknown[] = [root];
  for (const step of parse(path)) values = values.flatMap((v) => apply(step, v));
  return values.filter((v) => v !== undefined);
}

type Step =
  | { kind: "field"; name: string }
  | { kind: "index"; index: number }
  | { kind: "all" }
  | { kind: "filter"; field: string[]; op: "==" | "!="; value: string };

const cache = new Map<string, Step[]>();

function parse(path: string): Step[] {
  const hit = cache.get(path);
  if (hit) return hit;
  const src = path.trim().replace(/^\{(.*)\}$/, "$1").replace(/^\$/, "");
  const steps: Step[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (ch === ".") {
      i++;
      let name = "";
      while (i < src.length && src[i] !== "." && src[i] !== "[") {
        if (src[i] === "\\" && i + 1 < src.length) i++;
        name += src[i++];
      }
      if (name) steps.push(name === "*" ? { kind: "all" } : { kind: "field", name });
    } else if (ch === "[") {
      const end = closing(src, i);
      const inner = src.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === "*") steps.push({ kind: "all" });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: "index", index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ kind: "field", name: inner.slice(1, -1) });
      else {
        const m = /^\?\(@((?:\.[\w-]+)+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|([\w.-]+))\)$/.exec(inner);
        if (!m) throw new Error(`unsupported JSONPath step [${inner}] in ${path}`);
        steps.push({ kind: "filter", field: m[1]!.slice(1).split("."), op: m[2] as "==" | "!=", value: m[3] ?? m[4] ?? m[5]! });
      }
    } else {
      throw new Error(`unexpected "${ch}" at ${i} in JSONPath ${path}`);
    }
  }
  cache.set(path, steps);
  return steps;
}

function closing(src: string, open: number): number {
  let quote = "";
  for (let i = open + 1; i < src.length; i++) {
    const c = src[i]!;
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "]") return i;
  }
  throw new Error(`unclosed [ in JSONPath ${src}`);
}

function apply(step: Step, v: unknown): unknown[] {
  if (v === null || typeof v !== "object") return [];
  switch (step.kind) {
    case "field":
      return Array.isArray(v) ? [] : [(v as Record<string, unknown>)[step.name]];
    case "index": {
      if (!Array.isArray(v)) return [];
      return [v[step.index < 0 ? v.length + step.index : step.index]];
    }
    case "all":
      return Array.isArray(v) ? v : Object.values(v);
    case "filter": {
      const items = Array.isArray(v) ? v : [v];
      return items.filter((item) => {
        let x: unknown = item;
        for (const f of step.field) x = x && typeof x === "object" ? (x as Record<string, unknown>)[f] : undefined;
        const same = x !== undefined && String(x) === step.value;
        return step.op === "==" ? same : !same;
      });
    }
  }
}
