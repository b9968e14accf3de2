// The Kubernetes API as @kubernetes/client-node (1.4, the official JavaScript client) uses it:
// discovery through KubernetesObjectApi, create, read, list with selectors, merge patch, JSON
// patch, server-side apply, dry run, watch and delete, against the platform `npm start` runs.
import * as k8s from "@kubernetes/client-node";
import { describe, expect, inject, it } from "vitest";
import { uniqueNs } from "../support/api.js";

const p = inject("platform");
const kc = new k8s.KubeConfig();
// client-node refuses plain http unless skipTLSVerify is set; the shared platform is http on 127.0.0.1.
kc.loadFromOptions({
  clusters: [{ name: "eddy", server: p.url, skipTLSVerify: true }],
  users: [{ name: "eddy", token: p.token }],
  contexts: [{ name: "eddy", cluster: "eddy", user: "eddy" }],
  currentContext: "eddy",
});
const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const core = kc.makeApiClient(k8s.CoreV1Api);
const G = { group: "eventing.knative.dev", version: "v1" };

function broker(ns: string, name: string, spec: Record<string, unknown> = {}, labels?: Record<string, string>): k8s.KubernetesObject & { spec: unknown } {
  return { apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name, namespace: ns, ...(labels ? { labels } : {}) }, spec };
}

const readyOf = (o: any) => o.status?.conditions?.find((c: any) => c.type === "Ready")?.status;

describe("@kubernetes/client-node against Eddy", () => {
  it("discovers the server and its groups", async () => {
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    expect(version).toMatchObject({ major: "1", minor: "32" });
    const groups = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
    expect(groups.groups.map((g) => g.name)).toEqual(expect.arrayContaining(["eventing.knative.dev", "messaging.knative.dev", "flows.knative.dev", "sources.knative.dev"]));
    const resources = await custom.getAPIResources(G);
    expect(resources.resources.find((r) => r.name === "brokers")).toMatchObject({ kind: "Broker", namespaced: true, categories: ["all", "knative", "eventing"] });
  });

  it("creates, reads, patches, applies and deletes through KubernetesObjectApi", async () => {
    const ns = uniqueNs("cn");
    const created = await objects.create(broker(ns, "default"));
    expect(readyOf(created)).toBe("True");
    const read = await objects.read({ apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name: "default", namespace: ns } });
    expect((read as any).spec.delivery.retry).toBe(10);

    const merged = await objects.patch(broker(ns, "default", { delivery: { retry: 3 } }), undefined, undefined, undefined, undefined, k8s.PatchStrategy.MergePatch);
    expect((merged as any).spec.delivery).toMatchObject({ retry: 3, backoffPolicy: "exponential" });

    const applied = await objects.patch({ ...broker(ns, "default", { delivery: { retry: 4 } }) }, undefined, undefined, "client-node", true, k8s.PatchStrategy.ServerSideApply);
    expect((applied as any).spec.delivery.retry).toBe(4);
    expect(applied.metadata!.managedFields!.some((m) => m.manager === "client-node" && m.operation === "Apply")).toBe(true);

    const dry = await objects.create(broker(ns, "dry"), undefined, "All");
    expect(dry.metadata!.name).toBe("dry");
    await expect(objects.read({ apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name: "dry", namespace: ns } })).rejects.toMatchObject({ code: 404 });

    await objects.delete(broker(ns, "default"));
    await expect(objects.read({ apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name: "default", namespace: ns } })).rejects.toMatchObject({ code: 404 });
  });

  it("lists with label selectors and patches with a JSON patch through CustomObjectsApi", async () => {
    const ns = uniqueNs("cn");
    await custom.createNamespacedCustomObject({ ...G, namespace: ns, plural: "brokers", body: broker(ns, "a", {}, { team: "x" }) });
    await custom.createNamespacedCustomObject({ ...G, namespace: ns, plural: "brokers", body: broker(ns, "b") });
    const list = await custom.listNamespacedCustomObject({ ...G, namespace: ns, plural: "brokers", labelSelector: "team=x" });
    expect(list.items.map((i: any) => i.metadata.name)).toEqual(["a"]);
    const patched = await custom.patchNamespacedCustomObject(
      { ...G, namespace: ns, plural: "brokers", name: "b", body: [{ op: "add", path: "/metadata/labels", value: { team: "y" } }] },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch),
    );
    expect(patched.metadata.labels).toEqual({ team: "y" });
    const invalid = custom.createNamespacedCustomObject({ ...G, namespace: ns, plural: "brokers", body: broker(ns, "c", { delivery: { retry: -1 } }) });
    await expect(invalid).rejects.toMatchObject({ code: 422, body: expect.stringContaining("spec.delivery.retry") });
  });

  it("watches a Trigger turn Ready when its Broker appears, with a new resourceVersion", async () => {
    const ns = uniqueNs("cn");
    const trigger = { apiVersion: "eventing.knative.dev/v1", kind: "Trigger", metadata: { name: "t", namespace: ns }, spec: { broker: "b", subscriber: { uri: "http://127.0.0.1:9/" } } };
    const first: any = await custom.createNamespacedCustomObject({ ...G, namespace: ns, plural: "triggers", body: trigger });
    const seen: { type: string; obj: any }[] = [];
    const ready = new Promise<void>((resolve, reject) => {
      void new k8s.Watch(kc).watch(`/apis/eventing.knative.dev/v1/namespaces/${ns}/triggers`, { resourceVersion: first.metadata.resourceVersion }, (type, obj) => {
        seen.push({ type, obj });
        if (readyOf(obj) === "True") resolve();
      }, (err) => (err ? reject(err) : undefined)).then((ctl) => setTimeout(() => ctl.abort(), 15_000));
    });
    await custom.createNamespacedCustomObject({ ...G, namespace: ns, plural: "brokers", body: broker(ns, "b") });
    await ready;
    const last = seen[seen.length - 1]!;
    expect(last.type).toBe("MODIFIED");
    expect(Number(last.obj.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion));
  });

  it("lists the namespaces in use", async () => {
    const ns = uniqueNs("cn");
    await custom.createNamespacedCustomObject({ ...G, namespace: ns, plural: "brokers", body: broker(ns, "b") });
    const namespaces = await core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata!.name)).toContain(ns);
    expect((await core.readNamespace({ name: ns })).status!.phase).toBe("Active");
  });

  it("answers 401 to a client with a wrong token, discovery included", async () => {
    const bad = new k8s.KubeConfig();
    bad.loadFromOptions({ clusters: [{ name: "e", server: p.url, skipTLSVerify: true }], users: [{ name: "e", token: "wrong" }], contexts: [{ name: "e", cluster: "e", user: "e" }], currentContext: "e" });
    await expect(bad.makeApiClient(k8s.ApisApi).getAPIVersions()).rejects.toMatchObject({ code: 401 });
    await expect(bad.makeApiClient(k8s.CoreV1Api).listNamespace()).rejects.toMatchObject({ code: 401 });
  });
});
