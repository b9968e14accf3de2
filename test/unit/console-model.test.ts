// The console's runtime-free parts: deep links, the topology graph and its layout, rates, the
// send request and manifest plans. The browser tests (test/e2e/console.test.ts) drive the views.
import { describe, expect, it } from "vitest";
import { planApply, ManifestInvalid } from "../../console/apply.js";
import { failureFrom } from "../../console/api.js";
import { layoutGraph, NODE_W } from "../../console/layout.js";
import { parseRoute, routePath, type Route } from "../../console/router.js";
import { buildSend, encodeHeaderValue, SendInvalid, sendPath } from "../../console/send.js";
import { dropsByReason, niceMax, RateHistory } from "../../console/stats.js";
import { buildGraph, readiness, type KObject } from "../../console/topology.js";

const obj = (kind: string, name: string, spec: unknown = {}, ready: string | null = "True", reason?: string): KObject => ({
  apiVersion: "x/v1", kind, metadata: { name, namespace: "demo" }, spec,
  status: ready === null ? {} : { conditions: [{ type: "Ready", status: ready, ...(reason ? { reason, message: `${reason} explained` } : {}) }] },
});

describe("deep links", () => {
  it("parses every view and builds the same path back", () => {
    const routes: Route[] = [
      { view: "home" },
      { view: "namespace", ns: "demo" },
      { view: "object", ns: "demo", plural: "brokers", name: "default" },
      { view: "deadletters", ns: "demo", plural: "inmemorychannels", name: "audit" },
      // One dead letter open: its id (of a partitioned owner: "<partition>.<id>") is in the URL.
      { view: "deadletters", ns: "demo", plural: "brokers", name: "default", id: "1.a/b c" },
    ];
    for (const r of routes) expect(parseRoute(routePath(r))).toEqual(r);
    expect(parseRoute("/console/")).toEqual({ view: "home" });
    expect(parseRoute("/console/namespaces/a%20b")).toEqual({ view: "namespace", ns: "a b" });
    expect(parseRoute("/console/namespaces/x/brokers/y/z").view).toBe("notfound");
    expect(parseRoute("/console/namespaces/x/brokers/y/deadletters/42/more").view).toBe("notfound");
    expect(parseRoute("/console/namespaces/%E0%A4%A").view).toBe("notfound");
  });
});

describe("topology", () => {
  it("wires sources to Brokers, Brokers to Triggers, Triggers to subscribers and dead-letter sinks", () => {
    const g = buildGraph([
      obj("Broker", "default"),
      obj("Trigger", "orders", { broker: "default", filter: { attributes: { type: "order" } }, subscriber: { uri: "http://svc/orders" }, delivery: { deadLetterSink: { uri: "http://dls/" } } }),
      obj("PingSource", "tick", { sink: { ref: { kind: "Broker", name: "default" } } }),
      obj("Trigger", "lost", { broker: "missing", subscriber: { ref: { kind: "Sequence", name: "seq" } } }, "False", "BrokerDoesNotExist"),
      obj("EventType", "et"),
    ]);
    const ids = g.nodes.map((n) => n.id).sort();
    expect(ids).toEqual(["brokers/default", "brokers/missing", "pingsources/tick", "sequences/seq", "triggers/lost", "triggers/orders", "uri:http://dls/", "uri:http://svc/orders"]);
    expect(g.edges).toContainEqual({ from: "pingsources/tick", to: "brokers/default", kind: "flow" });
    expect(g.edges).toContainEqual({ from: "brokers/default", to: "triggers/orders", kind: "flow", label: "type=order" });
    expect(g.edges).toContainEqual({ from: "triggers/orders", to: "uri:http://svc/orders", kind: "flow" });
    expect(g.edges).toContainEqual({ from: "triggers/orders", to: "uri:http://dls/", kind: "dead-letter", label: "dead letters" });
    const lost = g.nodes.find((n) => n.id === "triggers/lost")!;
    expect(lost).toMatchObject({ state: "not-ready", detail: "BrokerDoesNotExist: BrokerDoesNotExist explained", link: { plural: "triggers", name: "lost" } });
    expect(g.nodes.find((n) => n.id === "brokers/missing")).toMatchObject({ state: "not-ready", detail: "not found in this namespace" });
  });

  it("draws Channels with Subscriptions and replies, Sequences by step and Parallels by branch", () => {
    const g = buildGraph([
      obj("InMemoryChannel", "ch"),
      obj("Subscription", "sub", { channel: { kind: "InMemoryChannel", name: "ch" }, subscriber: { uri: "http://a/" }, reply: { ref: { kind: "Broker", name: "b" } } }),
      obj("Broker", "b"),
      obj("Sequence", "seq", { steps: [{ uri: "http://s1/" }, { uri: "http://s2/", delivery: { deadLetterSink: { uri: "http://dls/" } } }], reply: { uri: "http://end/" } }),
      obj("Parallel", "par", { branches: [{ filter: { uri: "http://f/" }, subscriber: { uri: "http://b1/" } }, { subscriber: { uri: "http://b2/" } }], reply: { uri: "http://r/" } }),
    ]);
    const has = (from: string, to: string, kind: string) => g.edges.some((e) => e.from === from && e.to === to && e.kind === kind);
    expect(has("inmemorychannels/ch", "subscriptions/sub", "flow")).toBe(true);
    expect(has("subscriptions/sub", "brokers/b", "reply")).toBe(true);
    expect(has("sequences/seq", "sequences/seq#step-0", "flow")).toBe(true);
    expect(has("sequences/seq#step-0", "sequences/seq#step-1", "reply")).toBe(true);
    expect(has("sequences/seq#step-1", "uri:http://s2/", "flow")).toBe(true);
    expect(has("sequences/seq#step-1", "uri:http://dls/", "dead-letter")).toBe(true);
    expect(has("sequences/seq#step-1", "uri:http://end/", "reply")).toBe(true);
    expect(has("parallels/par#branch-0", "uri:http://f/", "flow")).toBe(true);
    expect(has("parallels/par#branch-1", "uri:http://r/", "reply")).toBe(true);
    expect(g.nodes.find((n) => n.id === "sequences/seq#step-1")).toMatchObject({ label: "step 2", link: { plural: "sequences", name: "seq" } });
  });

  it("draws an EventTransform's sink or its reply to the Broker, and a RequestReply's requests and replies", () => {
    const g = buildGraph([
      obj("Broker", "default"),
      obj("EventTransform", "retype", { jsonata: { expression: "$" } }),
      obj("EventTransform", "forward", { jsonata: { expression: "$" }, sink: { uri: "http://out/" }, reply: { discard: true } }),
      obj("Trigger", "t1", { broker: "default", subscriber: { ref: { kind: "EventTransform", name: "retype" } } }),
      obj("RequestReply", "ask", { brokerRef: { kind: "Broker", name: "default" } }),
      obj("Trigger", "ask0-1", { broker: "default", filters: [{ cesql: "KN_VERIFY_CORRELATION_ID(replyid, 'ask', 'demo', 'k', 0, 1)" }], subscriber: { ref: { kind: "RequestReply", name: "ask" }, uri: "/requestreplies/demo/ask/replies/0" } }),
    ]);
    expect(g.edges).toContainEqual({ from: "triggers/t1", to: "eventtransforms/retype", kind: "flow" });
    expect(g.edges).toContainEqual({ from: "eventtransforms/retype", to: "brokers/default", kind: "reply", label: "transformed" });
    expect(g.edges).toContainEqual({ from: "eventtransforms/forward", to: "uri:http://out/", kind: "flow", label: "reply discarded" });
    expect(g.edges).toContainEqual({ from: "requestreplies/ask", to: "brokers/default", kind: "flow", label: "requests" });
    expect(g.edges).toContainEqual({ from: "triggers/ask0-1", to: "requestreplies/ask", kind: "reply", label: "replies" });
    expect(g.nodes.find((n) => n.id === "eventtransforms/retype")).toMatchObject({ caption: "EventTransform", link: { plural: "eventtransforms", name: "retype" } });
  });

  it("lays the flow out left to right, every node placed apart", () => {
    const placed = layoutGraph(buildGraph([
      obj("PingSource", "tick", { sink: { ref: { kind: "Broker", name: "default" } } }),
      obj("Broker", "default"),
      obj("Trigger", "t1", { broker: "default", subscriber: { uri: "http://a/" } }),
      obj("Trigger", "t2", { broker: "default", subscriber: { uri: "http://b/" } }),
    ]));
    const x = (id: string) => placed.nodes.find((n) => n.id === id)!.x;
    expect(x("pingsources/tick")).toBeLessThan(x("brokers/default"));
    expect(x("brokers/default")).toBeLessThan(x("triggers/t1"));
    expect(x("triggers/t1")).toBeLessThan(x("uri:http://a/"));
    expect(placed.width).toBeGreaterThanOrEqual(4 * NODE_W);
    for (const e of placed.edges) expect(e.points.length).toBeGreaterThan(1);
    // On phones the same flow runs top to bottom.
    const tall = layoutGraph(buildGraph([obj("PingSource", "tick", { sink: { ref: { kind: "Broker", name: "default" } } }), obj("Broker", "default")]), "TB");
    const y = (id: string) => tall.nodes.find((n) => n.id === id)!.y;
    expect(y("pingsources/tick")).toBeLessThan(y("brokers/default"));
    const t1 = placed.nodes.find((n) => n.id === "triggers/t1")!;
    const t2 = placed.nodes.find((n) => n.id === "triggers/t2")!;
    expect(Math.abs(t1.y - t2.y)).toBeGreaterThan(50);
  });

  it("reads Ready, the reason it is not, or that nothing was reported", () => {
    expect(readiness(obj("Broker", "a"))).toEqual({ state: "ready", text: "Ready" });
    expect(readiness(obj("Broker", "a", {}, "Unknown", "Reconciling"))).toEqual({ state: "unknown", text: "Reconciling: Reconciling explained" });
    expect(readiness(obj("Broker", "a", {}, null)).state).toBe("unknown");
  });
});

describe("stats", () => {
  it("turns counters into rates, adding up drops and restarting after a reset", () => {
    const h = new RateHistory(60_000);
    h.add(0, { accepted: 0, "dropped.ttl-exhausted": 0 });
    h.add(2000, { accepted: 10, "dropped.ttl-exhausted": 2, "dropped.no-matching-trigger": 2 });
    h.add(4000, { accepted: 4 });
    expect(h.rates("accepted")).toEqual([{ t: 2000, perSecond: 5 }, { t: 4000, perSecond: 2 }]);
    expect(h.rates("dropped")[0]).toEqual({ t: 2000, perSecond: 2 });
    h.add(200_000, { accepted: 5 });
    expect(h.size).toBe(2);
    expect(dropsByReason({ "dropped.a": 1, "dropped.b": 3, accepted: 9 })).toEqual([["b", 3], ["a", 1]]);
    expect([niceMax(0), niceMax(0.3), niceMax(3), niceMax(7), niceMax(42)]).toEqual([1, 0.5, 5, 10, 50]);
  });
});

describe("send", () => {
  const fields = { type: "com.example.x", source: "/console", id: "", subject: "ünïcode \"q\"", extensions: "tenant=acme\npriority = 5", data: '{"a":1}', contentType: "application/json" };

  it("builds a binary-mode request with a generated id and encoded headers", () => {
    const r = buildSend(fields, () => "gen-1");
    expect(r.id).toBe("gen-1");
    expect(r.body).toBe('{"a":1}');
    expect(r.headers).toMatchObject({ "ce-specversion": "1.0", "ce-id": "gen-1", "ce-type": "com.example.x", "ce-source": "/console", "ce-tenant": "acme", "ce-priority": "5", "Content-Type": "application/json" });
    expect(r.headers["ce-subject"]).toBe("%C3%BCn%C3%AFcode%20%22q%22");
    expect(decodeURIComponent(r.headers["ce-subject"]!)).toBe(fields.subject);
    expect(encodeHeaderValue("50%")).toBe("50%25");
  });

  it("names the field that is wrong", () => {
    const bad = (f: Partial<typeof fields>) => {
      try {
        buildSend({ ...fields, ...f }, () => "x");
      } catch (e) {
        return [(e as SendInvalid).field, (e as Error).message];
      }
      return null;
    };
    expect(bad({ type: " " })).toEqual(["type", "type is required"]);
    expect(bad({ extensions: "Bad-Name=1" })?.[0]).toBe("extensions");
    expect(bad({ extensions: "id=1" })?.[1]).toMatch(/use its own field/);
    expect(bad({ data: "{nope" })?.[0]).toBe("data");
    expect(bad({ data: "plain", contentType: "text/plain" })).toBeNull();
    expect(bad({ extensions: "averyveryverylongname1=x" })?.[0]).toBe("extensions");
    // No content type given: JSON data says application/json, anything else text/plain (as eddy send).
    expect(buildSend({ ...fields, contentType: "" }, () => "x").headers["Content-Type"]).toBe("application/json");
    expect(buildSend({ ...fields, data: "hello", contentType: "" }, () => "x").headers["Content-Type"]).toBe("text/plain");
    expect(sendPath("https://events.example.com/brokers/demo/default")).toBe("/brokers/demo/default");
  });
});

describe("apply", () => {
  it("plans one PUT per object, YAML documents or JSON, in the namespace given by default", () => {
    const plans = planApply("apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: b}\n---\napiVersion: eventing.eddy.dev/v1alpha1\nkind: Replay\nmetadata: {name: r, namespace: other}\n", "demo");
    expect(plans.map((p) => p.path)).toEqual(["/apis/eventing.knative.dev/v1/namespaces/demo/brokers/b", "/apis/eventing.eddy.dev/v1alpha1/namespaces/other/replays/r"]);
    expect(plans[0]!.body).toMatchObject({ kind: "Broker", metadata: { name: "b", namespace: "demo" } });
    const json = planApply('{"apiVersion":"eventing.knative.dev/v1","kind":"List","items":[{"apiVersion":"eventing.knative.dev/v1","kind":"EventPolicy","metadata":{"name":"p"}}]}', "demo");
    expect(json[0]!.path).toBe("/apis/eventing.knative.dev/v1/namespaces/demo/eventpolicies/p");
  });

  it("says what is wrong before sending, naming the field", () => {
    const err = (t: string) => {
      try {
        planApply(t, "demo");
      } catch (e) {
        return { message: (e as ManifestInvalid).message, field: (e as ManifestInvalid).field };
      }
      return null;
    };
    expect(err("kind: Broker\napiVersion: eventing.knative.dev/v1\nmetadata: {}")).toEqual({ message: "needs metadata.name", field: "metadata.name" });
    expect(err("a: [")?.message).toMatch(/^not valid YAML/);
    expect(err("{")?.message).toMatch(/^not valid JSON/);
    expect(err("  ")?.message).toBe("the manifest is empty");
    expect(err("a: &a [*a, *a]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]")).not.toBeNull();
  });

  it("reads the API's Status: message and the fields it names", () => {
    const f = failureFrom(422, { kind: "Status", message: "Trigger.eventing.knative.dev \"t\" is invalid", details: { causes: [{ field: "spec.subscriber", message: "required" }] } });
    expect(f).toMatchObject({ status: 422, message: 'Trigger.eventing.knative.dev "t" is invalid', causes: [{ field: "spec.subscriber", message: "required" }] });
    expect(failureFrom(400, "bad event\n").message).toBe("bad event");
  });
});
