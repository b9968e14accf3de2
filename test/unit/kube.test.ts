// Runtime-free pieces of the Kubernetes API: JSONPath for printer columns, selectors, merge and
// JSON patches, server-side apply bookkeeping, field validation, Table cells, discovery order and
// the protobuf envelope kubectl uses for Namespaces.
import { describe, expect, it } from "vitest";
import { ApiError } from "../../core/errors.js";
import { crdOf } from "../../core/kube/crds.js";
import { aggregatedType, versionPriority } from "../../core/kube/discovery.js";
import { prune, unknownFields } from "../../core/kube/fields.js";
import { fromFieldsV1, toFieldsV1 } from "../../core/kube/fieldset.js";
import { evaluate } from "../../core/kube/jsonpath.js";
import { afterUpdate, managerOf, serverSideApply } from "../../core/kube/managed.js";
import { jsonPatch, mergePatch } from "../../core/kube/patch.js";
import { isKubeProtobuf, protobufObjectMeta } from "../../core/kube/protobuf.js";
import { fieldSelector, labelSelector } from "../../core/kube/selectors.js";
import { humanDuration, table, tableVersion } from "../../core/kube/table.js";
import { BrokerKind } from "../../core/resources/kinds/broker.js";
import type { Resource } from "../../core/resources/types.js";

const broker = (over: Partial<Resource["metadata"]> = {}, spec: Record<string, unknown> = {}, status?: Record<string, unknown>): Resource => ({
  apiVersion: "eventing.knative.dev/v1", kind: "Broker",
  metadata: { name: "b", namespace: "ns", uid: "u", generation: 1, resourceVersion: "1", creationTimestamp: "2026-01-01T00:00:00Z", ...over },
  spec, ...(status ? { status } : {}),
});

describe("JSONPath of printer columns", () => {
  const obj = { metadata: { annotations: { "eventing.knative.dev/broker.class": "Eddy" } }, status: { conditions: [{ type: "Addressable", status: "True" }, { type: "Ready", status: "False", reason: "BrokerDoesNotExist" }] } };
  it("evaluates filters, escaped dots, indexes and wildcards", () => {
    expect(evaluate('.status.conditions[?(@.type=="Ready")].status', obj)).toEqual(["False"]);
    expect(evaluate(".status.conditions[?(@.type=='Ready')].reason", obj)).toEqual(["BrokerDoesNotExist"]);
    expect(evaluate(".metadata.annotations.eventing\\.knative\\.dev/broker\\.class", obj)).toEqual(["Eddy"]);
    expect(evaluate(".status.conditions[0].type", obj)).toEqual(["Addressable"]);
    expect(evaluate(".status.conditions[*].type", obj)).toEqual(["Addressable", "Ready"]);
    expect(evaluate(".status.address.url", obj)).toEqual([]);
  });
});

describe("selectors", () => {
  const a = broker({ labels: { team: "x", tier: "web" } });
  const b = broker({ name: "c", labels: { team: "y" } });
  it("matches Kubernetes label selector syntax", () => {
    expect(labelSelector("team=x")(a)).toBe(true);
    expect(labelSelector("team==x,tier!=db")(a)).toBe(true);
    expect(labelSelector("team in (x, z)")(b)).toBe(false);
    expect(labelSelector("team notin (x)")(b)).toBe(true);
    expect(labelSelector("tier")(b)).toBe(false);
    expect(labelSelector("!tier")(b)).toBe(true);
    expect(labelSelector("")(b)).toBe(true);
  });
  it("refuses what it cannot read, naming the requirement", () => {
    expect(() => labelSelector("team=x=y")).toThrow(/"team=x=y"/);
    expect(() => labelSelector("a b c")).toThrow(ApiError);
  });
  it("selects on metadata.name and metadata.namespace only", () => {
    expect(fieldSelector("metadata.name=c")(b)).toBe(true);
    expect(fieldSelector("metadata.name!=c,metadata.namespace=ns")(a)).toBe(true);
    expect(() => fieldSelector("spec.broker=x")).toThrow(/field label not supported: "spec.broker"/);
  });
});

describe("patches", () => {
  it("merge patch merges maps, removes nulls, replaces lists", () => {
    expect(mergePatch({ a: 1, m: { x: 1, y: 2 }, l: [1, 2] }, { m: { y: null, z: 3 }, l: [3] })).toEqual({ a: 1, m: { x: 1, z: 3 }, l: [3] });
  });
  it("JSON patch applies every RFC 6902 operation and names the one that fails", () => {
    const doc = { spec: { filters: [{ exact: { type: "a" } }], delivery: { retry: 1 } } };
    const out = jsonPatch(doc, [
      { op: "add", path: "/spec/filters/-", value: { prefix: { type: "b" } } },
      { op: "replace", path: "/spec/delivery/retry", value: 2 },
      { op: "copy", from: "/spec/delivery", path: "/spec/copy" },
      { op: "move", from: "/spec/copy", path: "/spec/moved" },
      { op: "remove", path: "/spec/filters/0" },
      { op: "test", path: "/spec/moved/retry", value: 2 },
    ]);
    expect(out).toEqual({ spec: { filters: [{ prefix: { type: "b" } }], delivery: { retry: 2 }, moved: { retry: 2 } } });
    expect(doc.spec.delivery.retry).toBe(1);
    expect(() => jsonPatch(doc, [{ op: "remove", path: "/spec/nope" }])).toThrow(/operation 0: \/spec\/nope does not exist/);
    expect(() => jsonPatch(doc, [{ op: "replace", path: "/spec/filters/5", value: 1 }])).toThrow(/index 5 is out of bounds/);
    expect(() => jsonPatch(doc, { op: "add" })).toThrow(/JSON array/);
  });
});

describe("managedFields", () => {
  const now = new Date("2026-01-02T03:04:05.678Z");
  it("records an update's fields for its manager and round-trips FieldsV1", () => {
    const next = { ...broker({ labels: { a: "1" } }, { delivery: { retry: 2 } }) };
    const mf = afterUpdate(undefined, next, "kubectl-create", "eventing.knative.dev/v1", now);
    expect(mf).toEqual([{ manager: "kubectl-create", operation: "Update", apiVersion: "eventing.knative.dev/v1", time: "2026-01-02T03:04:05Z", fieldsType: "FieldsV1", fieldsV1: { "f:metadata": { "f:labels": { "f:a": {} } }, "f:spec": { "f:delivery": { "f:retry": {} } } } }]);
    expect(toFieldsV1(fromFieldsV1(mf[0]!.fieldsV1))).toEqual(mf[0]!.fieldsV1);
  });
  it("moves changed fields to the updater and drops removed ones", () => {
    const live = broker({ managedFields: afterUpdate(undefined, broker({}, { a: 1, b: 2 }), "first", "v", now) }, { a: 1, b: 2 });
    const mf = afterUpdate(live, broker({}, { a: 9 }), "second", "v", now);
    expect(mf.map((m) => [m.manager, m.fieldsV1])).toEqual([["second", { "f:spec": { "f:a": {} } }]]);
  });
  it("apply shares fields set to the same value, conflicts on different ones, and forces", () => {
    const live = broker({ managedFields: afterUpdate(undefined, broker({}, { x: 1, y: 2 }), "other", "v", now) }, { x: 1, y: 2 });
    const same = serverSideApply(live, { apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name: "b" }, spec: { x: 1 } }, "me", false, "v", now).object;
    expect((same.metadata!.managedFields as any[]).map((m) => m.manager).sort()).toEqual(["me", "other"]);
    expect(() => serverSideApply(live, { spec: { y: 3 } }, "me", false, "v", now)).toThrow(/conflict with "other": \.spec\.y/);
    const forced = serverSideApply(live, { spec: { y: 3 } }, "me", true, "v", now).object;
    expect(forced.spec).toEqual({ x: 1, y: 3 });
    const owners = Object.fromEntries((forced.metadata!.managedFields as any[]).map((m) => [m.manager, m.fieldsV1]));
    expect(owners).toEqual({ other: { "f:spec": { "f:x": {} } }, me: { "f:spec": { "f:y": {} } } });
  });
  it("kubectl's server-side apply takes over client-side apply's fields whose live value matches last-applied", () => {
    const V = "eventing.knative.dev/v1";
    const applied = { apiVersion: V, kind: "Broker", metadata: { name: "b" }, spec: { x: 1, y: 2 } };
    const annotations = { "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify(applied) };
    // What `kubectl apply` leaves: the annotation and its fields, owned by kubectl-client-side-apply.
    const csa = broker({ annotations }, { x: 1, y: 2 });
    const live = broker({ annotations, managedFields: afterUpdate(undefined, csa, "kubectl-client-side-apply", V, now) }, { x: 1, y: 2 });
    const migrated = serverSideApply(live, { ...applied, spec: { x: 5, y: 2 } }, "kubectl", false, V, now).object;
    expect(migrated.spec).toEqual({ x: 5, y: 2 });
    const owners = Object.fromEntries((migrated.metadata!.managedFields as any[]).map((m) => [m.manager, m.fieldsV1]));
    expect(owners.kubectl).toEqual({ "f:spec": { "f:x": {}, "f:y": {} } });
    expect(owners["kubectl-client-side-apply"]).toEqual({ "f:metadata": { "f:annotations": { "f:kubectl.kubernetes.io/last-applied-configuration": {} } }, "f:spec": { "f:y": {} } });
    // The annotation follows what kubectl applied, so a later client-side apply diffs against it.
    expect(JSON.parse(migrated.metadata!.annotations!["kubectl.kubernetes.io/last-applied-configuration"]!).spec).toEqual({ x: 5, y: 2 });
    // Another manager gets the conflict, as on a Kubernetes API server.
    expect(() => serverSideApply(live, { ...applied, spec: { x: 5 } }, "ci-bot", false, V, now)).toThrow(/conflict with "kubectl-client-side-apply": \.spec\.x/);
    // A field changed since the last client-side apply (here by kubectl patch) is a conflict still.
    const patched = broker({ annotations, managedFields: afterUpdate(live, broker({ annotations }, { x: 3, y: 2 }), "kubectl-client-side-apply", V, now) }, { x: 3, y: 2 });
    expect(() => serverSideApply(patched, { ...applied, spec: { x: 5, y: 2 } }, "kubectl", false, V, now)).toThrow(/conflict with "kubectl-client-side-apply": \.spec\.x/);
    // No annotation, no take-over.
    const bare = broker({ managedFields: afterUpdate(undefined, broker({}, { x: 1 }), "kubectl-client-side-apply", V, now) }, { x: 1 });
    expect(() => serverSideApply(bare, { ...applied, spec: { x: 5 } }, "kubectl", false, V, now)).toThrow(/conflict/);
  });
  it("derives the manager from fieldManager or the User-Agent", () => {
    expect(managerOf("kubectl-client-side-apply", "kubectl/v1.32")).toBe("kubectl-client-side-apply");
    expect(managerOf(undefined, "kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07")).toBe("kubectl");
    expect(managerOf(undefined, undefined)).toBe("unknown");
  });
});

describe("field validation against Knative's schema", () => {
  const schema = crdOf(BrokerKind).schema;
  it("names undeclared fields and leaves preserved subtrees alone", () => {
    const obj = { apiVersion: "x", kind: "Broker", metadata: { name: "b", bogus: 1 }, spec: { delivry: {}, delivery: { retry: 1, timeout: "PT1S" } }, status: { anything: 1 } };
    expect(unknownFields(obj, schema)).toEqual(["metadata.bogus", "spec.delivry"]);
    prune(obj, ["spec.delivry"]);
    expect(obj.spec).toEqual({ delivery: { retry: 1, timeout: "PT1S" } });
  });
});

describe("Eddy's fields beyond Knative's schema", () => {
  it("accepts a PingSource's spec.delivery", async () => {
    const { PingSourceKind } = await import("../../core/resources/kinds/sources.js");
    const ping = { spec: { schedule: "* * * * *", sink: { uri: "http://x/" }, delivery: { retry: 2 }, bogus: 1 } };
    expect(unknownFields(ping, crdOf(PingSourceKind).schema)).toEqual(["spec.bogus"]);
  });
});

describe("Table output", () => {
  it("uses the CRD's printer columns and Kubernetes' ages", () => {
    const b = broker({ annotations: { "eventing.knative.dev/broker.class": "Eddy" } }, {}, { address: { url: "http://x/brokers/ns/b" }, conditions: [{ type: "Ready", status: "True" }] });
    const t = table([b], crdOf(BrokerKind), Date.parse("2026-01-01T00:03:05Z"), { resourceVersion: "9" }) as any;
    expect(t.columnDefinitions.map((c: any) => c.name)).toEqual(["Name", "URL", "Age", "Ready", "Reason", "Class"]);
    expect(t.rows[0].cells).toEqual(["b", "http://x/brokers/ns/b", "3m5s", "True", null, "Eddy"]);
    expect(t.metadata).toEqual({ resourceVersion: "9" });
  });
  it("formats durations like HumanDuration", () => {
    expect([59_000, 119_000, 185_000, 600_000, 3 * 3600_000 + 60_000, 30 * 3600_000, 3 * 86400_000 + 3600_000, 400 * 86400_000, 3 * 365 * 86400_000].map(humanDuration))
      .toEqual(["59s", "119s", "3m5s", "10m", "3h1m", "30h", "3d1h", "400d", "3y"]);
  });
  it("recognises what kubectl accepts", () => {
    expect(tableVersion("application/json;as=Table;v=v1;g=meta.k8s.io,application/json")).toBe("v1");
    expect(tableVersion("application/json")).toBeUndefined();
    expect(aggregatedType("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json")).toBe("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  });
});

describe("discovery", () => {
  it("orders versions GA, beta, alpha", () => {
    expect(["v1alpha1", "v1beta3", "v2", "v1", "v1beta1"].sort(versionPriority)).toEqual(["v2", "v1", "v1beta3", "v1beta1", "v1alpha1"]);
  });
});

describe("protobuf envelope", () => {
  it("reads the name kubectl create namespace sends", () => {
    // k8s\0, Unknown{typeMeta{apiVersion "v1", kind "Namespace"}, raw Namespace{metadata{name "demo"}}}
    const meta = [0x0a, 4, ...new TextEncoder().encode("demo")];
    const ns = [0x0a, meta.length, ...meta];
    const typeMeta = [0x0a, 2, 0x76, 0x31, 0x12, 9, ...new TextEncoder().encode("Namespace")];
    const bytes = new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x0a, typeMeta.length, ...typeMeta, 0x12, ns.length, ...ns]);
    expect(isKubeProtobuf(bytes)).toBe(true);
    expect(protobufObjectMeta(bytes)).toEqual({ name: "demo" });
    expect(() => protobufObjectMeta(bytes.subarray(0, 10))).toThrow();
  });
});
