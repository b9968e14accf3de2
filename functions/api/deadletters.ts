import type { Hono } from "hono";
import { ApiError, unwrap } from "../../core/errors.js";
import type { OwnerRef } from "../../core/delivery/messages.js";
import { kindByPath } from "../../core/resources/registry.js";
import { dataPlaneStub, partitionRefs } from "../../durable-objects/objects.js";
import { tailUpgradeHeaders } from "../../core/tail.js";
import type { ApiEnv, C } from "./context.js";
import { placed } from "../placement.js";

const base = "/:group/:version/namespaces/:ns/:plural/:name";

/** The objects behind a Broker, Channel or InMemoryChannel named in the URL (404 naming the fix otherwise). */
async function owner(c: C): Promise<{ ref: OwnerRef; parts: OwnerRef[] }> {
  const { group, version, ns, plural, name } = c.req.param() as Record<string, string>;
  const kind = kindByPath(group!, version!, plural!);
  if (!kind?.dataPlane || kind.kind === "Sequence" || kind.kind === "Parallel") {
    throw new ApiError(404, `${plural} keep no dead letters and have no tail; Brokers, Channels and InMemoryChannels do`);
  }
  const ref = await placed(c.env, kind.dataPlane(ns!, name!), { kind: kind.kind, ns: ns!, name: name! });
  const parts = await partitionRefs(c.env, ref);
  if (!parts) throw new ApiError(404, `${plural} "${name}" not found in namespace "${ns}"`);
  return { ref, parts };
}

/** Entry ids of a partitioned owner name their partition: `<partition>.<id>`. */
function split(id: string, parts: OwnerRef[]): { part: OwnerRef; id: string } {
  if (parts.length === 1) return { part: parts[0]!, id };
  const m = /^(\d+)\.(.+)$/.exec(id);
  const part = m ? parts[Number(m[1])] : undefined;
  if (!m || !part) throw new ApiError(404, `dead letter "${id}" not found: ids of a partitioned owner look like <partition>.<id>`);
  return { part, id: m[2]! };
}

const tag = (i: number, parts: OwnerRef[], id: string) => (parts.length === 1 ? id : `${i}.${id}`);

/** An entry as users name what could not deliver it: its `trigger` (Brokers) or `subscription` (channels). */
function routeNamed<T extends object>(entry: T & { route?: unknown }, plural: string): Omit<T, "route"> & Record<string, unknown> {
  const { route, ...rest } = entry;
  return { ...rest, [plural === "brokers" ? "trigger" : "subscription"]: route };
}

/**
 * Kept dead letters and the live tail of an addressable (issue: archive and replay):
 * `GET .../{brokers|channels|inmemorychannels}/{name}/deadletters[/{id}]`, `POST .../deadletters/redrive`,
 * `DELETE .../deadletters/{id}`, and `GET .../{name}/tail` (WebSocket; also `.../triggers/{name}/tail`).
 */
export function registerDeadLetterRoutes(api: Hono<ApiEnv>): void {
  api.get(`${base}/deadletters`, async (c) => {
    const { parts } = await owner(c);
    const route = c.req.query("trigger") ?? c.req.query("subscription");
    const lists = await Promise.all(parts.map((p) => dataPlaneStub(c.env, p).deadLetterList(route)));
    const items = lists.flatMap((l, i) => (l ?? []).map((e) => routeNamed({ ...e, id: tag(i, parts, e.id) }, c.req.param("plural")!)));
    items.sort((a, b) => (a.at < b.at ? 1 : -1));
    return c.json({ kind: "DeadLetterList", items });
  });

  api.post(`${base}/deadletters/redrive`, async (c) => {
    const { parts } = await owner(c);
    const body = (await c.req.json().catch(() => null)) as { ids?: unknown; trigger?: unknown; subscription?: unknown; all?: unknown } | null;
    const route = body?.trigger ?? body?.subscription;
    const ids = body?.ids;
    const valid = body && (body.all === true || typeof route === "string" || (Array.isArray(ids) && ids.every((x) => typeof x === "string")));
    if (!valid) throw new ApiError(400, 'say which dead letters to redrive: {"ids": ["..."]}, {"trigger": "<name>"} (or "subscription"), or {"all": true}');
    let redriven = 0;
    const skipped: string[] = [];
    for (const [i, p] of parts.entries()) {
      const mine = Array.isArray(ids) ? (ids as string[]).filter((id) => parts.length === 1 || id.startsWith(`${i}.`)).map((id) => split(id, parts).id) : undefined;
      if (mine && mine.length === 0) continue;
      const r = await dataPlaneStub(c.env, p).deadLetterRedrive(mine ? { ids: mine } : typeof route === "string" ? { route } : { all: true });
      redriven += r?.redriven ?? 0;
      skipped.push(...(r?.skipped ?? []).map((id) => tag(i, parts, id)));
    }
    return c.json({ redriven, skipped });
  });

  api.get(`${base}/deadletters/:id`, async (c) => {
    const { parts } = await owner(c);
    const { part, id } = split(c.req.param("id"), parts);
    const got = (await dataPlaneStub(c.env, part).deadLetterGet(id)) as Record<string, unknown> | null | undefined;
    if (!got) throw new ApiError(404, `dead letter "${c.req.param("id")}" not found (redriven, purged, or past its retention)`);
    return c.json(routeNamed({ ...got, id: c.req.param("id") }, c.req.param("plural")!));
  });

  api.delete(`${base}/deadletters/:id`, async (c) => {
    const { parts } = await owner(c);
    const { part, id } = split(c.req.param("id"), parts);
    if (!(await dataPlaneStub(c.env, part).deadLetterPurge(id))) throw new ApiError(404, `dead letter "${c.req.param("id")}" not found`);
    return c.json({ kind: "Status", apiVersion: "v1", status: "Success", details: { name: c.req.param("id"), kind: "deadletters" } });
  });

  api.get(`${base}/tail`, async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError(400, "the tail is a WebSocket: connect with a WebSocket client (for example `eddy tail` or the console)");
    }
    const { route, ref, parts } = await tailTarget(c);
    const query = route ? `?route=${encodeURIComponent(route)}` : "";
    // The object answers the subprotocol only when the client offered it (core/tail.ts).
    const offered = c.req.header("sec-websocket-protocol");
    const headers: Record<string, string> = { Upgrade: "websocket", ...(offered ? { "Sec-WebSocket-Protocol": offered } : {}) };
    if (parts.length === 1) return dataPlaneStub(c.env, parts[0]!).fetch(new Request(`https://tail/${ref.name}${query}`, { headers }));
    return relay(c, parts, query, offered);
  });
}

/** The objects a tail watches: an addressable's partitions, or a Trigger's Broker limited to that Trigger. */
async function tailTarget(c: C): Promise<{ route?: string; ref: OwnerRef; parts: OwnerRef[] }> {
  const { group, version, ns, plural, name } = c.req.param() as Record<string, string>;
  if (plural === "triggers" || plural === "subscriptions") {
    const stub = c.env.NAMESPACE.get(c.env.NAMESPACE.idFromName(ns!));
    const obj = unwrap<{ spec?: unknown; metadata: { uid: string } }>(await stub.get(ns!, { group: group!, version: version!, plural: plural! }, name!));
    const spec = obj.spec as { broker?: string; channel?: { kind: string; name: string } };
    const ref = plural === "triggers"
      ? await placed(c.env, { binding: "BROKER", name: `${ns}/${spec.broker}` }, { kind: "Broker", ns: ns!, name: String(spec.broker) })
      : await placed(c.env, { binding: "CHANNEL", name: `${spec.channel?.kind}/${ns}/${spec.channel?.name}` }, { kind: String(spec.channel?.kind), ns: ns!, name: String(spec.channel?.name) });
    const parts = await partitionRefs(c.env, ref);
    if (!parts) throw new ApiError(404, `the ${plural === "triggers" ? "Broker" : "channel"} of ${name} does not exist`);
    return { route: obj.metadata.uid, ref, parts };
  }
  return owner(c);
}

/** One WebSocket for the client, fed by one per partition (a partitioned owner). */
async function relay(c: C, parts: OwnerRef[], query: string, offered: string | undefined): Promise<Response> {
  const pair = new WebSocketPair();
  const [client, server] = Object.values(pair) as [WebSocket, WebSocket];
  server.accept();
  const upstream: WebSocket[] = [];
  for (const p of parts) {
    const res = await dataPlaneStub(c.env, p).fetch(new Request(`https://tail/${p.name}${query}`, { headers: { Upgrade: "websocket" } }));
    const ws = res.webSocket;
    if (!ws) continue;
    ws.accept();
    ws.addEventListener("message", (e) => server.send(e.data as string));
    upstream.push(ws);
  }
  server.addEventListener("close", () => upstream.forEach((ws) => ws.close(1000, "bye")));
  return new Response(null, { status: 101, webSocket: client, headers: tailUpgradeHeaders(offered) });
}
