import { h, timeAgo } from "../dom.js";
import { apiPath, byKind } from "../kinds.js";
import { routePath } from "../router.js";
import { readiness, type KObject } from "../topology.js";
import type { Ctx } from "./ctx.js";

const REFRESH_MS = 5000;

/** Whether a Replay's spec targets this Broker or channel. */
export function replaysOf(replays: KObject[], owner: { kind: string; name: string }): KObject[] {
  return replays.filter((r) => {
    const spec = (r.spec ?? {}) as { broker?: string; channel?: { kind?: string; name?: string } };
    return owner.kind === "Broker" ? spec.broker === owner.name : spec.channel?.kind === owner.kind && spec.channel?.name === owner.name;
  });
}

/** The Replays of a Broker or channel (eventing.eddy.dev/v1alpha1): window, route, state, how many replayed. */
export function replaysPanel(ctx: Ctx, ns: string, owner: { kind: string; name: string }): HTMLElement {
  const k = byKind("Replay")!;
  const body = h("div", {}, h("p", {}, "Loading…"));
  let shown = "";
  const load = async () => {
    try {
      const all = (await ctx.client.get<{ items?: KObject[] }>(apiPath(k, ns))).items ?? [];
      const mine = replaysOf(all, owner).sort((a, b) => String(b.metadata.creationTimestamp ?? "").localeCompare(String(a.metadata.creationTimestamp ?? "")));
      const key = JSON.stringify(mine.map((r) => [r.metadata.name, r.metadata.resourceVersion]));
      if (key === shown) return;
      shown = key;
      body.replaceChildren(mine.length ? table(ns, mine, owner.kind === "Broker" ? "Trigger" : "Subscription") : h("p", { class: "hint" }, `No Replay of this ${owner.kind} yet: `, h("code", {}, `npx eddy replay ${owner.kind.toLowerCase()}:${owner.name} -n ${ns} --from -15m`), " creates one (it must archive: eddy.dev/archive-retention)."));
    } catch (e) {
      body.replaceChildren(h("p", { class: "error" }, (e as { status?: number }).status === 404 ? "This server serves no Replays." : `Could not list Replays: ${(e as Error).message}`));
    }
  };
  void load();
  const timer = setInterval(() => void load(), REFRESH_MS);
  ctx.signal.addEventListener("abort", () => clearInterval(timer));
  return h("section", { class: "panel", "aria-labelledby": "replays-h" }, h("h2", { id: "replays-h" }, "Replays"), body);
}

function table(ns: string, replays: KObject[], routeLabel: string): HTMLElement {
  return h(
    "table",
    { class: "replays" },
    h("thead", {}, h("tr", {}, ...["Name", "From", "To", routeLabel, "State", "Replayed", "Created"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      replays.map((r) => {
        const spec = (r.spec ?? {}) as { from?: string; to?: string; trigger?: string; subscription?: string };
        const rd = readiness(r);
        return h(
          "tr",
          { "data-replay": r.metadata.name },
          h("td", {}, h("a", { href: routePath({ view: "object", ns, plural: "replays", name: r.metadata.name }) }, r.metadata.name)),
          h("td", {}, spec.from ?? ""),
          h("td", {}, spec.to ?? ""),
          h("td", {}, spec.trigger ?? spec.subscription ?? "all that match"),
          h("td", { class: `state-${rd.state}` }, rd.text),
          h("td", {}, String(r.status?.replayed ?? 0)),
          h("td", { title: String(r.metadata.creationTimestamp ?? "") }, timeAgo(r.metadata.creationTimestamp as string | undefined)),
        );
      }),
    ),
  );
}
