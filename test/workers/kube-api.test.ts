// The Kubernetes API surface kubectl relies on, exercised inside workerd: discovery, OpenAPI,
// patches, server-side apply, dry runs, selectors, Table output, watch and DeleteOptions.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { apply, brokerObj, ORIGIN, triggerObj, uid } from "./helpers.js";

const AUTH = { Authorization: "Bearer test-token" };
const V1 = `${ORIGIN}/apis/eventing.knative.dev/v1`;
const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await SELF.fetch(url, {
    method,
    headers: { ...AUTH, ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.status, body: parsed, headers: r.headers };
}

/** Reads watch lines until `n` events arrived, then cancels the stream. */
async function events(res: Response, n: number): Promise<any[]> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = "";
  const out: any[] = [];
  while (out.length < n) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) out.push(JSON.parse(line));
    }
  }
  await reader.cancel();
  return out;
}

describe("discovery and OpenAPI", () => {
  it("answers 401 without the admin token on every new endpoint", async () => {
    for (const path of ["/version", "/api", "/api/v1", "/apis", "/apis/eventing.knative.dev", "/apis/eventing.knative.dev/v1", "/openapi/v2", "/openapi/v3", "/openapi/v3/apis/eventing.knative.dev/v1", "/api/v1/namespaces", "/api/v1/namespaces/default", "/apis/eventing.knative.dev/v1/brokers"]) {
      const none = await SELF.fetch(ORIGIN + path);
      expect(none.status, path).toBe(401);
      expect((await none.json() as any).kind, path).toBe("Status");
      const wrong = await SELF.fetch(ORIGIN + path, { headers: { Authorization: "Bearer wrong" } });
      expect(wrong.status, path).toBe(401);
    }
  });

  it("serves aggregated discovery when asked for it, the legacy lists otherwise", async () => {
    const agg = await call("GET", `${ORIGIN}/apis`, undefined, { Accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json" });
    expect(agg.headers.get("content-type")).toBe("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    const eventing = agg.body.items.find((g: any) => g.metadata.name === "eventing.knative.dev");
    expect(eventing.versions[0].version).toBe("v1");
    const brokers = eventing.versions[0].resources.find((r: any) => r.resource === "brokers");
    expect(brokers).toMatchObject({ scope: "Namespaced", singularResource: "broker", categories: ["all", "knative", "eventing"], responseKind: { kind: "Broker" } });
    expect(brokers.verbs).toEqual(expect.arrayContaining(["get", "list", "watch", "create", "update", "patch", "delete"]));
    const legacy = await call("GET", `${ORIGIN}/apis`);
    expect(legacy.body.kind).toBe("APIGroupList");
    expect(legacy.body.groups.find((g: any) => g.name === "messaging.knative.dev").preferredVersion.version).toBe("v1");
    const imc = (await call("GET", `${ORIGIN}/apis/messaging.knative.dev/v1`)).body.resources.find((r: any) => r.name === "inmemorychannels");
    expect(imc).toMatchObject({ kind: "InMemoryChannel", namespaced: true, shortNames: ["imc"] });
    const core = (await call("GET", `${ORIGIN}/api/v1`)).body.resources.map((r: any) => r.name);
    expect(core).toEqual(expect.arrayContaining(["namespaces", "serviceaccounts", "serviceaccounts/token"]));
    expect((await call("GET", `${ORIGIN}/version`)).body).toMatchObject({ major: "1", minor: "32" });
  });

  it("publishes Knative's schemas in OpenAPI v3 with PATCH operations that take fieldValidation", async () => {
    const root = await call("GET", `${ORIGIN}/openapi/v3`);
    const url = root.body.paths["apis/eventing.knative.dev/v1"].serverRelativeURL;
    expect(url).toMatch(/^\/openapi\/v3\/apis\/eventing.knative.dev\/v1\?hash=/);
    const doc = (await call("GET", ORIGIN + url)).body;
    const broker = doc.components.schemas["dev.knative.eventing.v1.Broker"];
    expect(broker["x-kubernetes-group-version-kind"]).toEqual([{ group: "eventing.knative.dev", kind: "Broker", version: "v1" }]);
    expect(broker.properties.spec.properties.delivery.properties.retry.type).toBe("integer");
    const patch = doc.paths["/apis/eventing.knative.dev/v1/namespaces/{namespace}/brokers/{name}"].patch;
    expect(patch.parameters.map((p: any) => p.name)).toContain("fieldValidation");
    expect(Object.keys(patch.requestBody.content)).not.toContain("application/strategic-merge-patch+json");
    const v2 = await call("GET", `${ORIGIN}/openapi/v2`, undefined, { Accept: "application/json" });
    expect(v2.body.definitions["dev.knative.messaging.v1.Subscription"]).toBeDefined();
    expect((await call("GET", `${ORIGIN}/openapi/v2`, undefined, { Accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf" })).status).toBe(406);
  });
});

describe("object API", () => {
  it("patches with merge patch and JSON patch, refuses strategic merge with 415", async () => {
    const ns = uid("kp");
    await apply(brokerObj(ns, "b"), "brokers");
    const merge = await call("PATCH", `${V1}/namespaces/${ns}/brokers/b`, { spec: { delivery: { retry: 3 } } }, { "Content-Type": "application/merge-patch+json" });
    expect(merge.status).toBe(200);
    expect(merge.body.spec.delivery).toEqual({ retry: 3, backoffPolicy: "exponential", backoffDelay: "PT0.2S" });
    expect(merge.body.metadata.generation).toBe(2);
    const json = await call("PATCH", `${V1}/namespaces/${ns}/brokers/b`, [{ op: "replace", path: "/spec/delivery/retry", value: 5 }], { "Content-Type": "application/json-patch+json" });
    expect(json.body.spec.delivery.retry).toBe(5);
    const failed = await call("PATCH", `${V1}/namespaces/${ns}/brokers/b`, [{ op: "test", path: "/spec/delivery/retry", value: 1 }], { "Content-Type": "application/json-patch+json" });
    expect(failed.status).toBe(422);
    expect(failed.body.message).toMatch(/operation 0: test failed: \/spec\/delivery\/retry/);
    const smp = await call("PATCH", `${V1}/namespaces/${ns}/brokers/b`, { spec: {} }, { "Content-Type": "application/strategic-merge-patch+json" });
    expect(smp.status).toBe(415);
    expect(smp.body.message).toMatch(/merge/);
    const missing = await call("PATCH", `${V1}/namespaces/${ns}/brokers/nope`, { spec: {} }, { "Content-Type": "application/merge-patch+json" });
    expect(missing.status).toBe(404);
    const collection = await call("PATCH", `${V1}/namespaces/${ns}/brokers`, { spec: {} }, { "Content-Type": "application/merge-patch+json" });
    expect(collection.status).toBe(405);
    expect(collection.headers.get("allow")).toBe("GET, POST");
  });

  it("server-side apply creates, records managedFields, and answers conflicts with 409 unless forced", async () => {
    const ns = uid("ssa");
    const cfg = (retry: number, labels?: Record<string, string>) => JSON.stringify({ apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name: "b", namespace: ns, ...(labels ? { labels } : {}) }, spec: { delivery: { retry } } });
    const url = `${V1}/namespaces/${ns}/brokers/b`;
    const created = await call("PATCH", `${url}?fieldManager=alice`, cfg(2, { team: "a" }), { "Content-Type": "application/apply-patch+yaml" });
    expect(created.status).toBe(201);
    expect(created.body.metadata.managedFields).toEqual([expect.objectContaining({ manager: "alice", operation: "Apply", fieldsType: "FieldsV1", fieldsV1: { "f:metadata": { "f:labels": { "f:team": {} } }, "f:spec": { "f:delivery": { "f:retry": {} } } } })]);
    const conflict = await call("PATCH", `${url}?fieldManager=bob`, cfg(7), { "Content-Type": "application/apply-patch+yaml" });
    expect(conflict.status).toBe(409);
    expect(conflict.body.message).toMatch(/conflict with "alice": \.spec\.delivery\.retry/);
    expect(conflict.body.details.causes[0].field).toBe(".spec.delivery.retry");
    const forced = await call("PATCH", `${url}?fieldManager=bob&force=true`, cfg(7), { "Content-Type": "application/apply-patch+yaml" });
    expect(forced.status).toBe(200);
    expect(forced.body.spec.delivery.retry).toBe(7);
    const owners = Object.fromEntries(forced.body.metadata.managedFields.map((m: any) => [m.manager, m.fieldsV1]));
    expect(owners.bob["f:spec"]).toEqual({ "f:delivery": { "f:retry": {} } });
    expect(owners.alice["f:spec"]).toBeUndefined();
    // alice stops applying her label: it is hers alone, so it goes.
    const dropped = await call("PATCH", `${url}?fieldManager=alice`, JSON.stringify({ apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name: "b" } }), { "Content-Type": "application/apply-patch+yaml" });
    expect(dropped.status).toBe(200);
    expect(dropped.body.metadata.labels?.team).toBeUndefined();
    expect(dropped.body.spec.delivery.retry).toBe(7);
  });

  it("dry runs validate and store nothing", async () => {
    const ns = uid("dry");
    const r = await call("POST", `${V1}/namespaces/${ns}/brokers?dryRun=All`, brokerObj(ns, "b"));
    expect(r.status).toBe(201);
    expect(r.body.status.conditions.find((c: any) => c.type === "Ready").status).toBe("True");
    expect((await call("GET", `${V1}/namespaces/${ns}/brokers/b`)).status).toBe(404);
    const bad = await call("POST", `${V1}/namespaces/${ns}/brokers?dryRun=All`, brokerObj(ns, "b", { delivery: { retry: -1 } }));
    expect(bad.status).toBe(422);
    await apply(brokerObj(ns, "b"), "brokers");
    const del = await call("DELETE", `${V1}/namespaces/${ns}/brokers/b?dryRun=All`);
    expect(del.status).toBe(200);
    expect((await call("GET", `${V1}/namespaces/${ns}/brokers/b`)).status).toBe(200);
    expect((await call("POST", `${V1}/namespaces/${ns}/brokers?dryRun=Some`, brokerObj(ns, "c"))).status).toBe(400);
  });

  it("strict field validation names the unknown field; Warn drops it with a Warning header", async () => {
    const ns = uid("fv");
    const body = { ...brokerObj(ns, "b"), spec: { delivry: { retry: 1 } } };
    const strict = await call("POST", `${V1}/namespaces/${ns}/brokers?fieldValidation=Strict`, body);
    expect(strict.status).toBe(400);
    expect(strict.body.message).toMatch(/unknown field "spec\.delivry"/);
    const warn = await call("POST", `${V1}/namespaces/${ns}/brokers`, body);
    expect(warn.status).toBe(201);
    expect(warn.headers.get("warning")).toMatch(/unknown field \\"spec\.delivry\\"/);
    expect(warn.body.spec.delivry).toBeUndefined();
  });

  it("lists with label and field selectors, and as a Table with Knative's printer columns", async () => {
    const ns = uid("sel");
    await apply({ ...brokerObj(ns, "a"), metadata: { name: "a", namespace: ns, labels: { team: "x" } } }, "brokers");
    await apply(brokerObj(ns, "b"), "brokers");
    const names = async (q: string) => (await call("GET", `${V1}/namespaces/${ns}/brokers?${q}`)).body.items.map((i: any) => i.metadata.name);
    expect(await names("labelSelector=team%3Dx")).toEqual(["a"]);
    expect(await names("labelSelector=!team")).toEqual(["b"]);
    expect(await names("labelSelector=team%20in%20(x,y)")).toEqual(["a"]);
    expect(await names("fieldSelector=metadata.name%3Db")).toEqual(["b"]);
    const bad = await call("GET", `${V1}/namespaces/${ns}/brokers?fieldSelector=spec.x%3D1`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/field label not supported: "spec.x"/);
    const t = await call("GET", `${V1}/namespaces/${ns}/brokers`, undefined, { Accept: TABLE });
    expect(t.headers.get("content-type")).toBe("application/json;as=Table;v=v1;g=meta.k8s.io");
    expect(t.body.columnDefinitions.map((c: any) => c.name)).toEqual(["Name", "URL", "Age", "Ready", "Reason", "Class"]);
    expect(t.body.rows[0].cells).toEqual(["a", `${ORIGIN}/brokers/${ns}/a`, expect.stringMatching(/^\d+s$/), "True", null, "Eddy"]);
    expect(t.body.rows[0].object).toMatchObject({ kind: "PartialObjectMetadata", metadata: { name: "a", namespace: ns } });
  });

  it("deletes with DeleteOptions preconditions", async () => {
    const ns = uid("del");
    const b = await apply(brokerObj(ns, "b"), "brokers");
    const wrong = await call("DELETE", `${V1}/namespaces/${ns}/brokers/b`, { kind: "DeleteOptions", apiVersion: "v1", preconditions: { uid: "not-it" } });
    expect(wrong.status).toBe(409);
    const right = await call("DELETE", `${V1}/namespaces/${ns}/brokers/b`, { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background", preconditions: { uid: b.metadata.uid } });
    expect(right.body).toMatchObject({ kind: "Status", status: "Success", details: { name: "b", uid: b.metadata.uid } });
  });

  it("lists namespaces in use and every namespace's objects", async () => {
    const ns = uid("nsl");
    await apply(brokerObj(ns, "b"), "brokers");
    const list = await call("GET", `${ORIGIN}/api/v1/namespaces`);
    expect(list.body.items.map((n: any) => n.metadata.name)).toContain(ns);
    expect((await call("GET", `${ORIGIN}/api/v1/namespaces/${ns}`)).body.status.phase).toBe("Active");
    expect((await call("GET", `${ORIGIN}/api/v1/namespaces/${uid("none")}`)).status).toBe(404);
    const all = await call("GET", `${V1}/brokers`);
    expect(all.body.items.some((i: any) => i.metadata.namespace === ns)).toBe(true);
    expect((await call("POST", `${ORIGIN}/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: "producer" } })).status).toBe(201);
    const accounts = await call("GET", `${ORIGIN}/api/v1/serviceaccounts`);
    expect(accounts.body.kind).toBe("ServiceAccountList");
    expect(accounts.body.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`)).toContain(`${ns}/producer`);
  });
});

describe("watch", () => {
  it("streams ADDED for what exists, then changes, status included, as they happen", async () => {
    const ns = uid("w");
    await apply(triggerObj(ns, "t", "b", "http://127.0.0.1:9/"), "triggers");
    const res = await SELF.fetch(`${V1}/namespaces/${ns}/triggers?watch=true`, { headers: AUTH });
    expect(res.status).toBe(200);
    const got = events(res, 2);
    await apply(brokerObj(ns, "b"), "brokers");
    const [added, modified] = await got;
    expect(added.type).toBe("ADDED");
    expect(modified.type).toBe("MODIFIED");
    expect(modified.object.status.conditions.find((c: any) => c.type === "Ready").status).toBe("True");
    expect(Number(modified.object.metadata.resourceVersion)).toBeGreaterThan(Number(added.object.metadata.resourceVersion));
  });

  it("resumes from a resourceVersion, filters by field selector, and reports deletes", async () => {
    const ns = uid("w");
    const a = await apply(brokerObj(ns, "a"), "brokers");
    await apply(brokerObj(ns, "b"), "brokers");
    await call("DELETE", `${V1}/namespaces/${ns}/brokers/a`);
    const res = await SELF.fetch(`${V1}/namespaces/${ns}/brokers?watch=1&fieldSelector=metadata.name%3Da&resourceVersion=${a.metadata.resourceVersion}`, { headers: AUTH });
    const [ev] = await events(res, 1);
    expect(ev).toMatchObject({ type: "DELETED", object: { metadata: { name: "a" } } });
  });

  it("answers 410 Gone for a version older than the change log", async () => {
    const ns = uid("w");
    await apply(brokerObj(ns, "a"), "brokers");
    // WATCH_HISTORY is 40 in these tests (1000 by default).
    for (let i = 0; i < 45; i++) await call("PATCH", `${V1}/namespaces/${ns}/brokers/a`, { metadata: { labels: { n: String(i) } } }, { "Content-Type": "application/merge-patch+json" });
    const r = await call("GET", `${V1}/namespaces/${ns}/brokers?watch=true&resourceVersion=1`);
    expect(r.status).toBe(410);
    expect(r.body).toMatchObject({ kind: "Status", reason: "Expired", code: 410 });
  });

  it("writes Table rows with column definitions on the first event only", async () => {
    const ns = uid("w");
    await apply(brokerObj(ns, "a"), "brokers");
    await apply(brokerObj(ns, "b"), "brokers");
    const res = await SELF.fetch(`${V1}/namespaces/${ns}/brokers?watch=true`, { headers: { ...AUTH, Accept: TABLE } });
    expect(res.headers.get("content-encoding")).toBe("identity");
    const [first, second] = await events(res, 2);
    expect(first.object.kind).toBe("Table");
    expect(first.object.columnDefinitions).toHaveLength(6);
    expect(second.object.columnDefinitions).toBeUndefined();
    expect(second.object.rows[0].cells[0]).toBe("b");
  });
});
