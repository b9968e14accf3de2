// A GitHub WebhookSource whose signing secret is a Secret of its namespace (secretKeyRef): deliveries
// signed by GitHub's own library with the Secret's value verify; after the Secret changes, what the
// new value signs verifies and what the old one signs is refused, with no restart and no redeploy.
import { sign } from "@octokit/webhooks-methods";
import { afterEach, describe, expect, inject, it } from "vitest";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { sinkPool } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const sink = sinkPool(afterEach);
const W = "sources.eddy.dev/v1alpha1";
const secret = (ns: string, token: string) => ({ apiVersion: "v1", kind: "Secret", metadata: { name: "github-webhook", namespace: ns }, stringData: { token } });

describe("WebhookSource with a secretKeyRef", () => {
  it("verifies with the Secret's value, and with the new value once the Secret changes", async () => {
    const ns = uniqueNs("whsec");
    const created = await api.call("POST", `/api/v1/namespaces/${ns}/secrets`, secret(ns, "first-github-secret"));
    expect(created.status).toBe(201);
    await api.apply(broker(ns, "default"));
    const sub = await sink();
    await api.apply(trigger(ns, "pushes", "default", sub.url, { filter: { attributes: { type: "com.github.push" } } }));
    await api.apply({
      apiVersion: W, kind: "WebhookSource", metadata: { name: "github", namespace: ns },
      spec: { provider: "github", secrets: [{ secretKeyRef: { name: "github-webhook", key: "token" } }], sink: { ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "default" } } },
    });
    const src = await api.waitReady(W, "WebhookSource", ns, "github");
    await api.waitReady("eventing.knative.dev/v1", "Trigger", ns, "pushes");
    const deliver = async (id: string, key: string) => {
      const body = JSON.stringify({ ref: "refs/heads/main", after: id, repository: { html_url: "https://github.com/octocat/Hello-World" } });
      const r = await fetch(src.status.address.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": id, "X-Hub-Signature-256": await sign(key, body) },
        body,
      });
      return { status: r.status, text: await r.text() };
    };

    expect((await deliver("d-1", "first-github-secret")).status).toBe(202);
    expect((await sub.waitFor(1))[0]!.headers["ce-id"]).toBe("d-1");
    const wrong = await deliver("d-2", "not-the-secret");
    expect(wrong.status).toBe(401);

    const replaced = await api.call("PUT", `/api/v1/namespaces/${ns}/secrets/github-webhook`, secret(ns, "rotated-github-secret"));
    expect(replaced.status).toBe(200);
    expect((await deliver("d-3", "rotated-github-secret")).status).toBe(202);
    const old = await deliver("d-4", "first-github-secret");
    expect(old.status).toBe(401);
    expect(old.text).toMatch(/X-Hub-Signature-256/);
    const got = await sub.waitFor(2);
    expect(got.map((r) => r.headers["ce-id"])).toEqual(["d-1", "d-3"]);
  });

  it("is not Ready while the Secret or its key is missing, and says which", async () => {
    const ns = uniqueNs("whsec");
    await api.apply({
      apiVersion: W, kind: "WebhookSource", metadata: { name: "github", namespace: ns },
      spec: { provider: "github", secrets: [{ secretKeyRef: { name: "absent", key: "token" } }], sink: { uri: "http://127.0.0.1:9/" } },
    });
    await expect.poll(async () => (await api.get(W, "WebhookSource", ns, "github")).body.status?.conditions?.find((c: any) => c.type === "Configured")?.message)
      .toContain('Secret "absent" key "token": the Secret does not exist');
    const named = await api.call("PUT", `/apis/${W}/namespaces/${ns}/webhooksources/github`, {
      apiVersion: W, kind: "WebhookSource", metadata: { name: "github", namespace: ns }, spec: { provider: "github", secrets: ["ADMIN_TOKEN"], sink: { uri: "http://127.0.0.1:9/" } },
    });
    expect(named.status).toBe(422);
    expect(named.body.message).toContain("does not start with SECRET_");
  });
});
