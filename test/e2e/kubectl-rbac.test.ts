// RBAC with the real kubectl: a ServiceAccount's token (`kubectl create token`) in its own
// kubeconfig, bound with `kubectl create role/rolebinding` and `clusterrole/clusterrolebinding`,
// against a platform of its own over https (client-go sends tokens only over https).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueNs } from "../support/api.js";
import { type Kubectl, kubectlFor, kubectlMissing } from "../support/kubectl.js";
import { type Platform, startPlatform } from "../support/platform.js";

if (kubectlMissing) console.warn(`[kubectl-rbac.test] skipped: ${kubectlMissing}`);

let platform: Platform;
let admin: Kubectl;
let reader: Kubectl;
const ns = uniqueNs("rbac");
const other = uniqueNs("rbac");
const user = `system:serviceaccount:${ns}:reader`;

async function ok(k: Kubectl, args: string[], stdin?: string): Promise<string> {
  const r = await k(args, stdin === undefined ? {} : { stdin });
  expect(r.code, `kubectl ${args.join(" ")}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const broker = (name: string) => `apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata:\n  name: ${name}\n`;
const trigger = "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: greetings\nspec:\n  broker: default\n  subscriber:\n    uri: http://127.0.0.1:9090/\n";

describe.skipIf(kubectlMissing !== undefined)("RBAC with kubectl", () => {
  beforeAll(async () => {
    platform = await startPlatform({ extraArgs: ["--https"] });
    admin = kubectlFor(platform.url, ns);
    await ok(admin, ["create", "namespace", ns]);
    await ok(admin, ["apply", "-f", "-"], `${broker("default")}---\n${trigger}`);
    await ok(admin, ["-n", other, "apply", "-f", "-"], broker("elsewhere"));
    await ok(admin, ["create", "serviceaccount", "reader"]);
    const token = (await ok(admin, ["create", "token", "reader"])).trim();
    reader = kubectlFor(platform.url, ns, token);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it("a ServiceAccount may do nothing until bound", async () => {
    const r = await reader(["get", "triggers"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Error from server (Forbidden): triggers.eventing.knative.dev is forbidden: User "${user}" cannot list resource "triggers" in API group "eventing.knative.dev" in the namespace "${ns}"`);
    expect((await reader(["auth", "can-i", "list", "triggers"])).stdout).toBe("no\n");
  });

  it("bound to a Role that may get, list and watch Triggers, it lists them and is refused the rest", async () => {
    expect(await ok(admin, ["create", "role", "trigger-reader", "--verb=get,list,watch", "--resource=triggers.eventing.knative.dev"])).toBe("role.rbac.authorization.k8s.io/trigger-reader created\n");
    expect(await ok(admin, ["create", "rolebinding", "reader", "--role=trigger-reader", `--serviceaccount=${ns}:reader`])).toBe("rolebinding.rbac.authorization.k8s.io/reader created\n");
    expect(await ok(reader, ["get", "triggers", "-o", "name"])).toBe("trigger.eventing.knative.dev/greetings\n");
    expect(await ok(reader, ["get", "trigger", "greetings", "-o", "jsonpath={.spec.broker}"])).toBe("default");

    const create = await reader(["create", "-f", "-"], { stdin: broker("mine") });
    expect(create.code).toBe(1);
    expect(create.stderr).toContain(`Error from server (Forbidden): error when creating "STDIN": brokers.eventing.knative.dev is forbidden: User "${user}" cannot create resource "brokers" in API group "eventing.knative.dev" in the namespace "${ns}"`);
    const secrets = await reader(["get", "secrets"]);
    expect(secrets.code).toBe(1);
    expect(secrets.stderr).toContain(`Error from server (Forbidden): secrets is forbidden: User "${user}" cannot list resource "secrets" in API group "" in the namespace "${ns}"`);
    expect((await reader(["get", "triggers", "-n", other])).stderr).toContain(`in the namespace "${other}"`);

    expect((await reader(["auth", "can-i", "list", "triggers"])).stdout).toBe("yes\n");
    expect((await reader(["auth", "can-i", "watch", "triggers.eventing.knative.dev"])).stdout).toBe("yes\n");
    const no = await reader(["auth", "can-i", "create", "brokers"]);
    expect(no.stdout).toBe("no\n");
    expect(no.code).toBe(1);
    expect((await reader(["auth", "can-i", "get", "secrets"])).stdout).toBe("no\n");
    // The admin asks on its behalf, as `kubectl --as` does.
    expect((await admin(["auth", "can-i", "list", "triggers", `--as=${user}`])).stdout).toBe("yes\n");
    const as = await admin(["get", "secrets", `--as=${user}`]);
    expect(as.stderr).toContain(`secrets is forbidden: User "${user}" cannot list resource "secrets"`);
    expect(await ok(reader, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"])).toBe(user);
  });

  it("a ClusterRoleBinding to a ClusterRole grants across namespaces", async () => {
    expect((await reader(["get", "brokers", "-n", other])).code).toBe(1);
    await ok(admin, ["create", "clusterrole", "broker-reader", "--verb=get,list,watch", "--resource=brokers.eventing.knative.dev"]);
    await ok(admin, ["create", "clusterrolebinding", "reader-brokers", "--clusterrole=broker-reader", `--serviceaccount=${ns}:reader`]);
    expect(await ok(reader, ["get", "brokers", "-n", other, "-o", "name"])).toBe("broker.eventing.knative.dev/elsewhere\n");
    const all = await ok(reader, ["get", "brokers", "-A", "-o", "custom-columns=NS:.metadata.namespace,NAME:.metadata.name", "--no-headers"]);
    expect(all).toMatch(new RegExp(`${other}\\s+elsewhere`));
    expect(all).toMatch(new RegExp(`${ns}\\s+default`));
    expect((await reader(["auth", "can-i", "get", "brokers", "-n", other])).stdout).toBe("yes\n");
    expect((await reader(["auth", "can-i", "delete", "brokers", "-n", other])).stdout).toBe("no\n");
    expect(await ok(admin, ["get", "clusterrolebinding", "reader-brokers", "-o", "jsonpath={.roleRef.name}"])).toBe("broker-reader");
  });

  it("the admin creates a Secret with kubectl and reads it back; the reader may not", async () => {
    expect(await ok(admin, ["create", "secret", "generic", "gh", "--from-literal=token=s3cr3t"])).toBe("secret/gh created\n");
    expect(await ok(admin, ["get", "secret", "gh", "-o", "jsonpath={.data.token}"])).toBe(Buffer.from("s3cr3t").toString("base64"));
    expect((await reader(["get", "secret", "gh"])).stderr).toContain(`secrets "gh" is forbidden: User "${user}" cannot get resource "secrets"`);
  });
});
