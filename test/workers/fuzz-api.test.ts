// Property-based fuzzing of the control-plane API inside workerd (issue #8): random methods, paths,
// credentials, content types and manifests (JSON and YAML, valid-ish and mutated). Fixed seed;
// FUZZ_RUNS sets the runs.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { uid } from "./helpers.js";
import { method, segment } from "./fuzz/arbitraries.js";
import { KINDS, manifestBody } from "./fuzz/manifests.js";
import { AUTH, expectExplained, fixture, fuzz, request, RUNS, send, stillDelivers, TIMEOUT } from "./fuzz/support.js";

const NAMES = ["default", "a", "c", "x-1"];

/** The namespace's resourceVersion, which every stored write moves. */
async function nsVersion(ns: string): Promise<string> {
  const r = await send(request(`/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers`, { headers: AUTH })!);
  expect(r.status).toBe(200);
  return (JSON.parse(r.text) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
}

const credentials = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("Bearer test-token", "bearer test-token", "Bearer   test-token  ") },
  { weight: 2, arbitrary: fc.constantFrom(undefined, "", "Bearer", "Bearer ", "Bearer wrong", "Basic dGVzdC10b2tlbg==", "test-token", "Bearer test-token2", "Bearer test-tokentest-token", "Token test-token") },
);

function apiCases(ns: string) {
  const odd = fc.record({ group: fc.constantFrom("eventing.knative.dev", "x.dev", "%zz"), version: fc.constantFrom("v1", "v2", ""), plural: segment, kind: fc.constant("Broker") });
  // The URL's kind, and a manifest of that kind (or, now and then, of another).
  const target = fc.nat({ max: KINDS.length - 1 }).chain((i) => fc.record({
    kind: fc.oneof({ weight: 8, arbitrary: fc.constant(KINDS[i]!) }, { weight: 1, arbitrary: fc.constantFrom(...KINDS) }, { weight: 1, arbitrary: odd }),
    body: manifestBody(KINDS[i]!.kind, "x"),
  }));
  return fc.record({
    method: fc.oneof({ weight: 3, arbitrary: fc.constantFrom("PUT", "POST", "GET", "DELETE") }, { weight: 1, arbitrary: method }),
    auth: credentials,
    target,
    ns: fc.oneof({ weight: 8, arbitrary: fc.constant(ns) }, { weight: 1, arbitrary: fc.constantFrom("UPPER", "a".repeat(64), "-x", "%E2%82", "ns_1") }),
    name: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: segment }),
    shape: fc.oneof({ weight: 6, arbitrary: fc.constant("item") }, { weight: 2, arbitrary: fc.constant("collection") }, { weight: 1, arbitrary: fc.constantFrom("stats", "extra") }),
    ownName: fc.nat({ max: 5 }).map((n) => n > 0), // the manifest names the object of the URL
    contentType: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(null, "application/merge-patch+json", "text/yaml", "application/x-www-form-urlencoded", "yaml", "application/json; charset=latin1") }),
  });
}

describe("control-plane API fuzzing", () => {
  it(`answers ${RUNS} adversarial API calls without a 5xx, explains every 4xx, and stores nothing it refuses`, async () => {
    const fx = await fixture();
    const ns = uid("fa");
    const counts = new Map<number, number>();
    const ran = await fuzz(apiCases(ns), async (c) => {
      const { kind, body } = c.target;
      const base = `/apis/${kind.group}/${kind.version}/namespaces/${c.ns}/${kind.plural}`;
      const path = c.shape === "collection" ? base : c.shape === "stats" ? `${base}/${c.name}/stats` : c.shape === "extra" ? `${base}/${c.name}/x/y` : `${base}/${c.name}`;
      // The generated manifest names the object "x"; most of the time it is re-aimed at this URL's name.
      let text = body.text;
      if (c.ownName && body.type !== "text/plain") text = text.replaceAll('"name":"x"', `"name":"${c.name}"`).replaceAll("name: x\n", `name: ${c.name}\n`);
      const headers: Record<string, string> = {};
      if (c.auth !== undefined) headers.authorization = c.auth;
      const type = c.contentType === undefined ? body.type : c.contentType;
      if (type !== null) headers["content-type"] = type;
      const withBody = !["GET", "HEAD"].includes(c.method);
      const req = request(path, { method: c.method, headers, ...(withBody ? { body: text } : {}) });
      if (!req) return;
      const watched = c.ns === ns;
      const before = watched ? await nsVersion(ns) : "";
      const a = await send(req);
      counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
      const what = `${c.method} ${path} (${c.auth ?? "no credentials"}; ${type}; ${text.slice(0, 120)})`;
      expectExplained(what, c.method, a, true);
      const authorized = c.auth !== undefined && /^bearer\s+test-token\s*$/i.test(c.auth);
      if (!authorized) expect(a.status, what).toBe(401);
      const wrote = a.status < 300 && ["PUT", "POST", "DELETE"].includes(c.method);
      if (watched && !wrote) expect(await nsVersion(ns), `${what} answered ${a.status} but changed the namespace`).toBe(before);
    }, () => stillDelivers(fx));

    expect(ran).toBe(RUNS);
    const seen = JSON.stringify([...counts].sort());
    for (const code of [200, 401, 400, 404, 422]) expect(counts.get(code) ?? 0, `no ${code} among ${seen}`).toBeGreaterThan(0);
    expect((counts.get(200) ?? 0) + (counts.get(201) ?? 0), seen).toBeGreaterThan(RUNS / 20);
  }, TIMEOUT);
});
