// The real kubectl against Eddy: a second platform started with `npm start -- --https` (client-go
// sends a bearer token only over https) and a kubeconfig written by `eddy kubeconfig`.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueNs } from "../support/api.js";
import { type Kubectl, kubectlFor, kubectlMissing } from "../support/kubectl.js";
import { type Platform, ROOT, startPlatform } from "../support/platform.js";

if (kubectlMissing) console.warn(`[kubectl.test] skipped: ${kubectlMissing}`);

let platform: Platform;
let kubectl: Kubectl;
const ns = uniqueNs("kctl");

async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await kubectl(args, stdin === undefined ? {} : { stdin });
  expect(r.code, `kubectl ${args.join(" ")}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const manifest = (type: string) => `apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: default
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: greetings
spec:
  broker: default
  filter:
    attributes:
      type: ${type}
  subscriber:
    uri: http://127.0.0.1:9090/
`;

describe.skipIf(kubectlMissing !== undefined)("kubectl against Eddy over https", () => {
  beforeAll(async () => {
    platform = await startPlatform({ extraArgs: ["--https"] });
    kubectl = kubectlFor(platform.url, ns);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it("applies a multi-document manifest, then again with a change", async () => {
    expect(await ok(["apply", "-f", "-"], manifest("com.example.greeting"))).toBe("broker.eventing.knative.dev/default created\ntrigger.eventing.knative.dev/greetings created\n");
    expect(await ok(["get", "broker", "default", "-o", "jsonpath={.status.address.url}"])).toBe(`${platform.url}/brokers/${ns}/default`);
    const again = await ok(["apply", "-f", "-"], manifest("com.example.hello"));
    expect(again).toBe("broker.eventing.knative.dev/default unchanged\ntrigger.eventing.knative.dev/greetings configured\n");
    expect(await ok(["get", "trigger", "greetings", "-o", "jsonpath={.spec.filter.attributes.type} {.metadata.generation}"])).toBe("com.example.hello 2");
  });

  it("prints Knative's columns", async () => {
    const out = await ok(["get", "brokers"]);
    expect(out.split("\n")[0]).toMatch(/^NAME\s+URL\s+AGE\s+READY\s+REASON$/);
    expect(out).toMatch(new RegExp(`default\\s+${platform.url.replaceAll(".", "\\.")}/brokers/${ns}/default\\s+\\d+s\\s+True`));
    expect(await ok(["get", "namespaces"])).toMatch(new RegExp(`${ns}\\s+Active`));
  });

  it("sends an event with eddy send, over https with the token", async () => {
    const send = (to: string) => spawnSync("node", [join(ROOT, "cli", "eddy.mjs"), "send", "--server", platform.url, "--to", to, "-n", ns, "--type", "com.example.hello", "--data", '{"hello":"world"}', "--token", platform.token], { encoding: "utf8" });
    const sent = send("broker:default");
    expect(sent.status, sent.stderr).toBe(0);
    expect(sent.stdout).toBe("202 Accepted\n");
    const missing = send("broker:nope");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('Broker "nope" in namespace');
    expect(missing.stderr).toContain("404");
  });

  it("applies server-side, then patches with a merge patch and a JSON patch", async () => {
    expect(await ok(["apply", "--server-side", "-f", "-"], manifest("com.example.hello"))).toContain("trigger.eventing.knative.dev/greetings serverside-applied");
    const managers = JSON.parse(await ok(["get", "trigger", "greetings", "-o", "json", "--show-managed-fields"])).metadata.managedFields;
    expect(managers).toContainEqual(expect.objectContaining({ manager: "kubectl", operation: "Apply" }));
    await ok(["patch", "trigger", "greetings", "--type=merge", "-p", '{"spec":{"delivery":{"retry":3}}}']);
    await ok(["patch", "trigger", "greetings", "--type=json", "-p", '[{"op":"replace","path":"/spec/delivery/retry","value":4}]']);
    expect(await ok(["get", "trigger", "greetings", "-o", "jsonpath={.spec.delivery.retry}"])).toBe("4");
  });

  it("migrates from client-side to server-side apply as a Kubernetes API server does", async () => {
    const doc = (type: string, retry: number) => `apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: migrating
spec:
  broker: default
  filter:
    attributes:
      type: ${type}
  subscriber:
    uri: http://127.0.0.1:9090/
  delivery:
    retry: ${retry}
`;
    expect(await ok(["apply", "-f", "-"], doc("com.example.one", 2))).toBe("trigger.eventing.knative.dev/migrating created\n");
    // The same configuration with changed values, now server-side: kubectl-client-side-apply owns
    // those fields, and their live values still match the last-applied annotation, so kubectl's
    // server-side apply takes them over instead of conflicting.
    expect(await ok(["apply", "--server-side", "-f", "-"], doc("com.example.two", 5))).toBe("trigger.eventing.knative.dev/migrating serverside-applied\n");
    const got = JSON.parse(await ok(["get", "trigger", "migrating", "-o", "json", "--show-managed-fields"]));
    expect(got.spec.filter.attributes.type).toBe("com.example.two");
    expect(got.spec.delivery.retry).toBe(5);
    const owners = Object.fromEntries(got.metadata.managedFields.map((m: { manager: string; fieldsV1: unknown }) => [m.manager, m.fieldsV1]));
    expect(owners.kubectl).toMatchObject({ "f:spec": { "f:delivery": { "f:retry": {} }, "f:filter": { "f:attributes": { "f:type": {} } } } });
    expect(JSON.stringify(owners["kubectl-client-side-apply"] ?? {})).not.toContain("f:retry");
    expect(JSON.parse(got.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]).spec.delivery.retry).toBe(5);
    // Back to client-side apply: it diffs against the annotation the server-side apply kept current,
    // so dropping a field from the configuration removes it from the object.
    await ok(["apply", "-f", "-"], doc("com.example.two", 5).replace(/  delivery:\n    retry: 5\n/, ""));
    expect(JSON.parse(await ok(["get", "trigger", "migrating", "-o", "json"])).spec.delivery).toBeUndefined();
    await ok(["apply", "-f", "-"], doc("com.example.two", 5));
    // A field changed by someone else since is still a conflict, naming the manager and the field.
    await ok(["patch", "trigger", "migrating", "--type=merge", "-p", '{"spec":{"delivery":{"retry":7}}}']);
    const conflict = await kubectl(["apply", "--server-side", "-f", "-"], { stdin: doc("com.example.two", 6) });
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/conflict with "kubectl-patch"[^\n]*\.spec\.delivery\.retry/);
  });

  it("watches changes with get -w", async () => {
    const proc = spawn("kubectl", [...kubectl.argv, "get", "trigger", "greetings", "-w", "-o", "jsonpath={.metadata.labels.stage}{\"\\n\"}"], { env: kubectl.env });
    let out = "";
    const saw = new Promise<void>((resolve) => proc.stdout.on("data", (d) => {
      out += d;
      if (out.includes("watched")) resolve();
    }));
    try {
      await new Promise((r) => setTimeout(r, 1500)); // the list and the watch request
      await ok(["label", "trigger", "greetings", "stage=watched"]);
      await Promise.race([saw, new Promise((_, rej) => setTimeout(() => rej(new Error(`no event from get -w: ${out}`)), 15_000))]);
    } finally {
      proc.kill();
    }
  });

  it("waits for a Trigger to become Ready when its Broker appears", async () => {
    await ok(["apply", "-f", "-"], "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: later\nspec:\n  broker: later\n  subscriber:\n    uri: http://127.0.0.1:9090/\n");
    const waiting = kubectl(["wait", "--for=condition=Ready", "trigger/later", "--timeout=30s"], { timeoutMs: 40_000 });
    await new Promise((r) => setTimeout(r, 1000));
    await ok(["apply", "-f", "-"], "apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata:\n  name: later\n");
    const r = await waiting;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("trigger.eventing.knative.dev/later condition met\n");
  });

  it("explains fields from Knative's schema", async () => {
    const out = await ok(["explain", "broker.spec.delivery"]);
    expect(out).toContain("GROUP:      eventing.knative.dev");
    expect(out).toMatch(/backoffDelay\s+<string>/);
    expect(out).toMatch(/retry\s+<integer>/);
  });

  it("dry-runs on the server without storing", async () => {
    const doc = "apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata:\n  name: dry\n";
    expect(await ok(["apply", "--dry-run=server", "-f", "-"], doc)).toBe("broker.eventing.knative.dev/dry created (server dry run)\n");
    const get = await kubectl(["get", "broker", "dry"]);
    expect(get.code).toBe(1);
    expect(get.stderr).toMatch(/NotFound|not found/);
  });

  it("refuses an invalid manifest naming the field", async () => {
    const retry = await kubectl(["apply", "-f", "-"], { stdin: "apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata:\n  name: bad\nspec:\n  delivery:\n    retry: -1\n" });
    expect(retry.code).toBe(1);
    expect(retry.stderr).toContain('The Broker "bad" is invalid: spec.delivery.retry: must be an integer >= 0, got -1');
    const typo = await kubectl(["apply", "-f", "-"], { stdin: "apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata:\n  name: bad\nspec:\n  delivry:\n    retry: 1\n" });
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('unknown field "spec.delivry"');
  });

  it("deletes what a manifest names", async () => {
    expect(await ok(["delete", "-f", "-"], manifest("com.example.hello"))).toBe("broker.eventing.knative.dev \"default\" deleted\ntrigger.eventing.knative.dev \"greetings\" deleted\n");
    expect((await kubectl(["get", "trigger", "greetings"])).code).toBe(1);
  });

  it("creates and deletes a namespace, with what is in it, and finds kinds by category", async () => {
    const other = uniqueNs("kctl");
    expect(await ok(["create", "namespace", other])).toBe(`namespace/${other} created\n`);
    expect(await ok(["-n", other, "apply", "-f", "-"], "apiVersion: messaging.knative.dev/v1\nkind: InMemoryChannel\nmetadata:\n  name: orders\n")).toBe("inmemorychannel.messaging.knative.dev/orders created\n");
    expect(await ok(["-n", other, "get", "messaging", "-o", "name"])).toBe("inmemorychannel.messaging.knative.dev/orders\n");
    expect(await ok(["-n", other, "get", "imc", "-o", "name"])).toBe("inmemorychannel.messaging.knative.dev/orders\n");
    expect(await ok(["delete", "namespace", other])).toBe(`namespace "${other}" deleted\n`);
    expect((await kubectl(["get", "namespace", other])).code).toBe(1);
    expect((await kubectl(["-n", other, "get", "imc", "orders"])).code).toBe(1);
  });

  it("gets 401 with a wrong token", async () => {
    const r = await kubectl(["get", "brokers", "--token", "wrong"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unauthorized|must be logged in/);
  });
});
