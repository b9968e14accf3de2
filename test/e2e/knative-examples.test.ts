// Knative's own EventTransform examples (test/fixtures/knative-examples, copied from knative/docs)
// applied with the real kubectl, unchanged, and run as Knative documents them; a RequestReply
// likewise (Knative publishes no example of one: the manifest here follows its API reference).
// A second platform, over https: kubectl sends its token only over https.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { uniqueNs } from "../support/api.js";
import { httpsPost } from "../support/https.js";
import { type Platform, ROOT, startPlatform } from "../support/platform.js";
import { type Received, sinkPool } from "../support/sink.js";

const found = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
const kubectlMissing = found.error || found.status !== 0 ? `kubectl is not on PATH (${found.error?.message ?? found.stderr}); install kubectl 1.32 to run these tests` : undefined;
if (kubectlMissing) console.warn(`[knative-examples.test] skipped: ${kubectlMissing}`);

const EXAMPLES = resolve(ROOT, "test", "fixtures", "knative-examples", "eventtransform");
const example = (f: string) => join(EXAMPLES, f);
const sink = sinkPool(afterEach);
let platform: Platform;
let dir: string;
const ns = uniqueNs("kex");

function kubectl(args: string[], stdin = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const proc = spawn("kubectl", ["--cache-dir", join(dir, "cache"), ...args], { env: { ...process.env, KUBECONFIG: join(dir, "kubeconfig") } });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => proc.kill("SIGKILL"), 45_000);
    proc.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    proc.stdin.end(stdin);
  });
}

async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await kubectl(args, stdin);
  expect(r.code, `kubectl ${args.join(" ")}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** A binary-mode CloudEvent, sent with the admin token as the sender. */
function send(path: string, attrs: Record<string, string>, data: unknown) {
  const headers: Record<string, string> = { Authorization: `Bearer ${platform.token}`, "Content-Type": "application/json" };
  for (const [k, v] of Object.entries(attrs)) headers[`ce-${k}`] = v;
  return httpsPost(`${platform.url}${path}`, headers, JSON.stringify(data));
}

const listenFor = (type: string, uri: string, name: string) =>
  `apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: ${name}\nspec:\n  broker: default\n  filter:\n    attributes:\n      type: ${type}\n  subscriber:\n    uri: ${uri}\n`;
const json = (r: Received) => JSON.parse(r.body.toString());

describe.skipIf(kubectlMissing !== undefined)("Knative's examples with kubectl", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "eddy-kex-"));
    platform = await startPlatform({ extraArgs: ["--https"] });
    const kc = spawnSync("node", [join(ROOT, "cli", "eddy.mjs"), "kubeconfig", "--server", platform.url, "--namespace", ns], { encoding: "utf8" });
    expect(kc.status, kc.stderr).toBe(0);
    writeFileSync(join(dir, "kubeconfig"), kc.stdout);
    await ok(["apply", "-f", "-"], "apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata:\n  name: default\n");
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it("Using Broker Reply Feature: applies unchanged, and the transformed event comes back to the Broker", async () => {
    expect(await ok(["apply", "-f", example("broker-reply.yaml")])).toBe("trigger.eventing.knative.dev/transform-trigger created\neventtransform.eventing.knative.dev/event-transformer created\n");
    await ok(["wait", "--for=condition=Ready", "eventtransform/event-transformer", "trigger/transform-trigger", "--timeout=30s"]);
    const table = await ok(["get", "eventtransforms"]);
    expect(table.split("\n")[0]).toMatch(/^NAME\s+URL\s+SINK\s+READY\s+REASON$/);
    expect(table).toMatch(new RegExp(`event-transformer\\s+${platform.url.replaceAll(".", "\\.")}/eventtransforms/${ns}/event-transformer\\s+True`));
    const s = await sink();
    await ok(["apply", "-f", "-"], listenFor("transformed.event.type", s.url, "transformed"));
    await ok(["wait", "--for=condition=Ready", "trigger/transformed", "--timeout=30s"]);
    expect((await send(`/brokers/${ns}/default`, { specversion: "1.0", id: "o-1", source: "/orig", type: "original.event.type", time: "2025-05-05T05:05:05Z" }, { hello: "world" })).status).toBe(202);
    const [got] = await s.waitFor(1);
    expect(got!.headers).toMatchObject({ "ce-type": "transformed.event.type", "ce-source": "transform.event-transformer", "ce-id": "o-1", "ce-time": "2025-05-05T05:05:05Z" });
    expect(json(got!)).toMatchObject({ id: "o-1", type: "original.event.type", data: { hello: "world" } });
  });

  it("Field Extraction, Event Enrichment, Basic Usage and Order Processing apply unchanged and answer at their address as documented", async () => {
    const files = ["extract-user-id.yaml", "event-enricher.yaml", "simple-transform.yaml", "order-processor.yaml"];
    await ok(["apply", ...files.flatMap((f) => ["-f", example(f)])]);
    await ok(["wait", "--for=condition=Ready", "eventtransform/extract-user-id", "eventtransform/event-enricher", "eventtransform/simple-transform", "eventtransform/order-processor", "--timeout=30s"]);
    const attrs = { specversion: "1.0", id: "e-1", source: "/shop", type: "order.created", time: "2025-01-01T00:00:00Z" };
    const extract = await send(`/eventtransforms/${ns}/extract-user-id`, attrs, { user: { id: "u-9" } });
    expect(extract.status).toBe(200);
    expect(JSON.parse(extract.body)).toMatchObject({ type: "user.extracted", source: "transform.user-extractor", userid: "u-9", data: { data: { user: { id: "u-9" } } } });
    const enriched = JSON.parse((await send(`/eventtransforms/${ns}/event-enricher`, attrs, { a: 1 })).body);
    expect(enriched).toMatchObject({ id: "e-1", type: "order.created", environment: "production", region: "us-west-1" });
    expect(JSON.parse((await send(`/eventtransforms/${ns}/simple-transform`, attrs, { a: 1 })).body)).toEqual({ specversion: "1.0", id: "e-1", time: "2025-01-01T00:00:00Z", type: "transformed.type", source: "transform.simple", data: { a: 1 } });
    const order = { id: "o-7", customer: { id: "c-1" }, region: "eu", created: "2025-01-01", items: [{ productId: "p1", name: "Laptop", quantity: 1, price: 1200 }, { productId: "p2", name: "Mouse", quantity: 2, price: 25 }] };
    const processed = JSON.parse((await send(`/eventtransforms/${ns}/order-processor`, attrs, order)).body);
    expect(processed).toMatchObject({ type: "order.processed", orderid: "o-7", customerid: "c-1", region: "eu", priority: "high", data: { total: 1250, items: [{ productId: "p1", totalPrice: 1200 }, { productId: "p2", totalPrice: 50 }] } });
    expect(processed.data.grandTotal).toBeCloseTo(1375);
  });

  it("User Registration Event Transformer applies unchanged and sends what it makes to its Broker", async () => {
    const s = await sink();
    await ok(["apply", "-f", "-"], listenFor("user.registered.processed", s.url, "registered"));
    await ok(["apply", "-f", example("user-registration-transformer.yaml")]);
    await ok(["wait", "--for=condition=Ready", "eventtransform/user-registration-transformer", "trigger/registered", "--timeout=30s"]);
    expect(await ok(["get", "eventtransform", "user-registration-transformer", "-o", "jsonpath={.status.sinkUri}"])).toBe(`${platform.url}/brokers/${ns}/default`);
    const r = await send(`/eventtransforms/${ns}/user-registration-transformer`, { specversion: "1.0", id: "r-1", source: "/signup", type: "user.registered" }, { user: { id: "u-1", email: "Ada@Example.COM", name: "Ada L" } });
    expect(r.status).toBe(202); // the Broker's answer, as Knative's transformer passes its sink's on
    const [got] = await s.waitFor(1);
    expect(got!.headers).toMatchObject({ "ce-userid": "u-1", "ce-region": "unknown", "ce-tier": "free" });
    expect(json(got!)).toMatchObject({ userId: "u-1", email: "ada@example.com", displayName: "Ada L", subscription: { tier: "free" } });
    // Without a name the example calls $indexOf, which JSONata has not: the sender hears why.
    const noName = await send(`/eventtransforms/${ns}/user-registration-transformer`, { specversion: "1.0", id: "r-2", source: "/signup", type: "user.registered" }, { user: { id: "u-2", email: "b@example.com" } });
    expect(noName.status).toBe(400);
    expect(noName.body).toContain("$indexOf is not a JSONata function");
  });

  it("the examples that need Knative Serving, or are not JSONata, are refused with the reasons", async () => {
    const converter = await kubectl(["apply", "-f", example("format-converter.yaml")]);
    expect(converter.code).toBe(1);
    expect(converter.stderr).toContain("spec.sink.ref: Service (serving.knative.dev/v1) is not an addressable of this system");
    const replies = await kubectl(["apply", "-f", example("request-reply-transform.yaml")]);
    expect(replies.code).toBe(1);
    expect(replies.stderr).toContain('spec.jsonata.expression: is not valid JSONata at line 1, column 1: The symbol "#" cannot be used as a unary operator (S0211); JSONata comments are written /* like this */, not with #');
  });

  it("a RequestReply: applied, Knative's columns, its reply Trigger listed and not deletable, a request answered", async () => {
    const s = await sink((req) => ({
      status: 200, body: req.body,
      headers: { "ce-specversion": "1.0", "ce-id": `re-${req.headers["ce-id"]}`, "ce-source": "/fn", "ce-type": "com.example.reply", "ce-replyid": req.headers["ce-correlationid"] ?? "", "content-type": "application/json" },
    }));
    await ok(["apply", "-f", "-"], `${listenFor("com.example.request", s.url, "function")}---\napiVersion: eventing.knative.dev/v1alpha1\nkind: RequestReply\nmetadata:\n  name: example\nspec:\n  brokerRef:\n    apiVersion: eventing.knative.dev/v1\n    kind: Broker\n    name: default\n`);
    await ok(["wait", "--for=condition=Ready", "requestreply/example", "--timeout=30s"]);
    const table = await ok(["get", "rr"]);
    expect(table.split("\n")[0]).toMatch(/^NAME\s+URL\s+READY\s+REASON$/);
    expect(await ok(["get", "triggers", "-l", "eventing.knative.dev/RequestReply.name=example", "-o", "name"])).toBe("trigger.eventing.knative.dev/example0-1\n");
    const del = await kubectl(["delete", "trigger", "example0-1"]);
    expect(del.code).toBe(1);
    expect(del.stderr).toContain('triggers "example0-1" is managed by RequestReply "example" (its reply path) and cannot be changed or deleted');
    const r = await send(`/requestreplies/${ns}/example`, { specversion: "1.0", id: "ask-1", source: "/cli", type: "com.example.request" }, { question: 6 * 7 });
    expect(r.status).toBe(200);
    expect(r.headers).toMatchObject({ "ce-type": "com.example.reply", "ce-id": "re-ask-1" });
    expect(JSON.parse(r.body)).toEqual({ question: 42 });
    expect(await ok(["delete", "requestreply", "example"])).toBe('requestreply.eventing.knative.dev "example" deleted\n');
    expect((await kubectl(["get", "trigger", "example0-1"])).code).toBe(1);
  });
});
