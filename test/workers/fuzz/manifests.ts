// Manifest generators for the control-plane fuzz suite: valid-ish objects of every kind Eddy serves,
// randomly mutated, written as JSON or YAML, plus hand-picked YAML that stresses the parser.
import fc from "fast-check";
import { stringify } from "yaml";
import { SINK } from "../helpers.js";
import { deepJson, jsonValue, noise, truncated } from "./arbitraries.js";

export interface KindRef {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export const KINDS: KindRef[] = [
  { group: "eventing.knative.dev", version: "v1", plural: "brokers", kind: "Broker" },
  { group: "eventing.knative.dev", version: "v1", plural: "triggers", kind: "Trigger" },
  { group: "messaging.knative.dev", version: "v1", plural: "inmemorychannels", kind: "InMemoryChannel" },
  { group: "messaging.knative.dev", version: "v1", plural: "channels", kind: "Channel" },
  { group: "messaging.knative.dev", version: "v1", plural: "subscriptions", kind: "Subscription" },
  { group: "flows.knative.dev", version: "v1", plural: "sequences", kind: "Sequence" },
  { group: "flows.knative.dev", version: "v1", plural: "parallels", kind: "Parallel" },
  { group: "sources.knative.dev", version: "v1", plural: "pingsources", kind: "PingSource" },
  { group: "sources.eddy.dev", version: "v1alpha1", plural: "webhooksources", kind: "WebhookSource" },
  { group: "eventing.knative.dev", version: "v1beta3", plural: "eventtypes", kind: "EventType" },
];

const uri = `${SINK}/ok/fuzz-api`;
const delivery = { retry: 2, backoffPolicy: "linear", backoffDelay: "PT0.1S", deadLetterSink: { uri } };

/** A spec Knative would accept for each kind (PingSource fires once a year, so no tick interferes). */
function specFor(kind: string): Record<string, unknown> {
  switch (kind) {
    case "Broker": return { delivery };
    case "Trigger": return { broker: "default", filters: [{ any: [{ exact: { type: "a" } }, { cesql: "source LIKE '/x%'" }] }], subscriber: { uri }, delivery };
    case "InMemoryChannel": return { delivery };
    case "Channel": return { channelTemplate: { apiVersion: "messaging.knative.dev/v1", kind: "InMemoryChannel" } };
    case "Subscription": return { channel: { apiVersion: "messaging.knative.dev/v1", kind: "Channel", name: "c" }, subscriber: { uri }, reply: { uri } };
    case "Sequence": return { steps: [{ uri }, { uri }], reply: { uri } };
    case "Parallel": return { branches: [{ filter: { uri }, subscriber: { uri } }, { subscriber: { uri } }], reply: { uri } };
    case "PingSource": return { schedule: "0 0 1 1 *", contentType: "application/json", data: '{"a":1}', sink: { uri } };
    case "WebhookSource": return { provider: "github", secrets: ["SECRET_TEST_WEBHOOK"], sink: { uri } };
    default: return { type: "fuzz.type", source: "/fuzz", reference: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "default" } };
  }
}

type Json = Record<string, unknown> | unknown[];

/** Every container and key in `obj`, as (parent, key) pairs, found without recursion. */
function slots(obj: Json): [Json, string | number][] {
  const out: [Json, string | number][] = [];
  const stack: Json[] = [obj];
  while (stack.length) {
    const o = stack.pop()!;
    for (const [k, v] of Object.entries(o)) {
      out.push([o, Array.isArray(o) ? Number(k) : k]);
      if (typeof v === "object" && v !== null) stack.push(v as Json);
    }
  }
  return out;
}

const mutation = fc.record({
  at: fc.nat(),
  op: fc.constantFrom("delete", "replace", "replace", "deep", "huge", "add", "type"),
  value: jsonValue,
  depth: fc.constantFrom(30, 98, 99, 100, 101, 150, 400),
});

/** Applies mutations to a copy: delete, replace with random JSON, nest deep, make huge, add keys, flip types. */
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(base: Json, muts: Mutation[]): Json {
  const obj = structuredClone(base);
  for (const m of muts) {
    const all = slots(obj);
    if (all.length === 0) break;
    const [parent, key] = all[m.at % all.length]!;
    const p = parent as Record<string | number, unknown>;
    switch (m.op) {
      case "delete": if (Array.isArray(parent)) parent.splice(key as number, 1); else delete p[key]; break;
      case "replace": p[key] = m.value; break;
      case "deep": { let v: unknown = m.value; for (let i = 0; i < m.depth; i++) v = i % 2 ? [v] : { k: v }; p[key] = v; break; }
      case "huge": p[key] = "x".repeat(70_000); break;
      case "add": p[`${String(key)}x`] = m.value; break;
      case "type": p[key] = typeof p[key] === "string" ? 42 : String(p[key]); break;
    }
  }
  return obj;
}

/** A manifest of kind `kind` for the object `name` (or another name, or none), mutated 0-3 times (0 in 2 of 5). */
export function manifest(kind: string, name: string) {
  return fc.record({
    meta: fc.oneof(
      { weight: 6, arbitrary: fc.constant({ name }) },
      { weight: 1, arbitrary: fc.constantFrom({}, { generateName: "g-" }, { name: "other" }, { name, namespace: "elsewhere" }, { name, resourceVersion: "1" }, { name, labels: { a: 1 } }, { name: "Bad_Name" }) },
    ),
    kindField: fc.constantFrom(kind, kind, kind, "Broker", "Nope", undefined),
    muts: fc.oneof({ weight: 2, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) }),
  }).map(({ meta, kindField, muts }) => {
    const api = KINDS.find((k) => k.kind === (kindField ?? kind)) ?? KINDS[0]!;
    return mutate({ apiVersion: `${api.group}/${api.version}`, ...(kindField ? { kind: kindField } : {}), metadata: meta, spec: specFor(kind) }, muts) as Record<string, unknown>;
  });
}

/** YAML that stresses the parser: aliases and cycles, tags, directives, several documents, odd indentation. */
export const nastyYaml = fc.constantFrom(
  "spec: &s\n  again: *s\n",
  "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
  "kind: Broker\n---\nkind: Broker\n",
  "--- !!binary aGVsbG8=\n",
  "kind: !!js/function 'function(){}'\n",
  "? [a, b]\n: c\n",
  "spec:\n  <<: *missing\n",
  "base: &b {delivery: {retry: 1}}\nspec:\n  <<: *b\n",
  "spec:\n\tdelivery: {}\n",
  "%YAML 1.1\n---\nkind: Broker\n",
  "%TAG ! tag:x,2000:\n--- !foo 1\n",
  "kind: Broker\nkind: Trigger\n",
  "\ufeffkind: Broker\n",
  "metadata:\n  name: !!int 12\n",
  "spec: !!set {a, b}\n",
  "spec: !!omap [a: 1]\n",
  "spec: !!float .nan\n",
  "'unterminated\n",
  "\"\\uD800\"\n",
  "spec: {delivery: {retry: 99999999999999999999999}}\n",
  "metadata: {name: default}\nspec: {delivery: {timeout: P1000Y}}\n",
  "...\n",
  "",
  "   \n\t\n",
  "[".repeat(5000),
  "{".repeat(5000),
  `spec:\n  x:\n    ${"- ".repeat(3000)}1\n`,
  `spec:\n${Array.from({ length: 200 }, (_, i) => `${" ".repeat(i + 2)}k${i}:`).join("\n")} 1\n`,
);

/** Request bodies for the API: manifests as JSON or YAML, stress YAML, and non-manifests. */
export function manifestBody(kind: string, name: string) {
  const m = manifest(kind, name);
  return fc.oneof(
    { weight: 5, arbitrary: m.map((o) => ({ text: JSON.stringify(o), type: "application/json" })) },
    // yaml's stringify recurses per level (in this test, not in Eddy), so only shallow objects are written as YAML.
    { weight: 3, arbitrary: m.filter((o) => JSON.stringify(o).length < 20_000 && !/(\[\{"k":){40}/.test(JSON.stringify(o))).map((o) => ({ text: stringify(o), type: "application/yaml" })) },
    { weight: 2, arbitrary: nastyYaml.map((text) => ({ text, type: "application/yaml" })) },
    { weight: 1, arbitrary: deepJson.map((s) => ({ text: `{"spec":{"x":${s}}}`, type: "application/json" })) },
    { weight: 1, arbitrary: truncated.map((text) => ({ text, type: "application/json" })) },
    { weight: 1, arbitrary: noise.map((b) => ({ text: new TextDecoder().decode(b), type: "text/plain" })) },
  );
}
