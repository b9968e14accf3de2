// Nothing an anonymous caller can grow: a platform of its own (its state directory is measured),
// with sender authentication off so that ingress requests need no token at all, one of every
// addressable, and a few hundred made-up paths of every ingress kind posted without credentials.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, broker, channel, imc, uniqueNs } from "../support/api.js";
import { type Platform, startPlatform } from "../support/platform.js";

let platform: Platform;
let api: Api;
const ns = uniqueNs("anon");
const F = "flows.knative.dev/v1";

/** Every file under the state directory with its size. */
function snapshot(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(p.slice(dir.length), statSync(p).size);
    }
  };
  walk(dir);
  return out;
}

/** The state once two looks a second apart agree (SQLite settles its files after the last write). */
async function settled(dir: string): Promise<Map<string, number>> {
  let last = snapshot(dir);
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = snapshot(dir);
    if (JSON.stringify([...now]) === JSON.stringify([...last])) return now;
    last = now;
  }
  throw new Error("the state directory never settled");
}

const event = (id: string) => ({
  "ce-specversion": "1.0", "ce-id": id, "ce-source": "/anon", "ce-type": "anon.probe", "content-type": "application/json",
});

beforeAll(async () => {
  platform = await startPlatform({ extraArgs: ["--var", "AUTHENTICATION_OIDC:disabled", "--var", "SECRET_ANON_GH:anon-secret"] });
  api = new Api(platform);
  const sink = { uri: "http://127.0.0.1:9/" };
  await api.apply(broker(ns, "default"));
  await api.apply(channel(ns, "ch"));
  await api.apply(imc(ns, "imc"));
  await api.apply({ apiVersion: F, kind: "Sequence", metadata: { name: "seq", namespace: ns }, spec: { steps: [sink, sink] } });
  await api.apply({ apiVersion: F, kind: "Parallel", metadata: { name: "par", namespace: ns }, spec: { branches: [{ subscriber: sink }] } });
  await api.apply({ apiVersion: "sources.eddy.dev/v1alpha1", kind: "WebhookSource", metadata: { name: "gh", namespace: ns }, spec: { provider: "github", secrets: ["SECRET_ANON_GH"], sink } });
  const E = "eventing.knative.dev/v1alpha1";
  await api.apply({ apiVersion: E, kind: "EventTransform", metadata: { name: "et", namespace: ns }, spec: { jsonata: { expression: "$" } } });
  await api.apply({ apiVersion: E, kind: "RequestReply", metadata: { name: "rr", namespace: ns }, spec: { brokerRef: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "default" } } });
  for (const [v, k, n] of [["eventing.knative.dev/v1", "Broker", "default"], [F, "Sequence", "seq"], [F, "Parallel", "par"], ["sources.eddy.dev/v1alpha1", "WebhookSource", "gh"]] as const) {
    await api.waitReady(v, k, ns, n);
  }
});

afterAll(async () => {
  await platform?.stop();
});

describe("anonymous requests to made-up addresses", () => {
  it("are answered 404 and leave the state exactly as it was", async () => {
    // A real address still takes events from anyone while authentication is off: the fixture works.
    const ok = await fetch(`${platform.url}/brokers/${ns}/default`, { method: "POST", headers: event("real"), body: "{}" });
    expect(ok.status).toBe(202);
    const before = await settled(platform.persistDir);

    const name = fc.oneof(fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/), fc.stringMatching(/^[A-Za-z0-9._~-]{1,80}$/));
    const nsArb = fc.oneof(fc.constant(ns), fc.constant("default"), name);
    const path = fc.oneof(
      fc.tuple(fc.constantFrom("brokers", "channels", "inmemorychannels", "sequences", "parallels", "webhooks", "eventtransforms", "requestreplies"), nsArb, name).map(([k, n, x]) => `/${k}/${n}/${x}`),
      fc.tuple(nsArb, fc.nat(999)).map(([n, i]) => `/sequences/${n}/seq/steps/${i + 2}`),
      fc.tuple(nsArb, fc.nat(999)).map(([n, i]) => `/parallels/${n}/par/branches/${i + 1}`),
      fc.tuple(nsArb, fc.nat(999)).map(([n, i]) => `/requestreplies/${n}/rr/replies/${i + 1}`),
    ).filter((p) => !/^\/(brokers|channels|inmemorychannels|sequences|parallels|webhooks|eventtransforms|requestreplies)\/anon-[a-z0-9]+\/(default|ch|imc|seq|par|gh|et|rr)$/.test(p));
    const paths = fc.sample(path, { seed: 22, numRuns: 400 });
    const statuses = new Map<number, number>();
    for (const [i, p] of paths.entries()) {
      const webhook = p.startsWith("/webhooks/");
      const r = await fetch(platform.url + p, {
        method: "POST",
        headers: webhook ? { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": "sha256=00" } : event(`probe-${i}`),
        body: "{}",
      });
      await r.text();
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      expect(r.status, `${p}`).toBe(404);
    }
    expect(statuses.get(404)).toBe(paths.length);

    const after = await settled(platform.persistDir);
    const added = [...after.keys()].filter((f) => !before.has(f));
    const grown = [...after].filter(([f, n]) => before.has(f) && before.get(f) !== n);
    expect(added, "files created by anonymous requests").toEqual([]);
    expect(grown, "files that changed size").toEqual([]);
  });
});
