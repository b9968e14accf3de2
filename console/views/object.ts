import { stringify } from "yaml";
import { h } from "../dom.js";
import { apiPath, byPlural } from "../kinds.js";
import { routePath } from "../router.js";
import { statsPanel } from "../stats-view.js";
import { tailPanel } from "../tail-view.js";
import { readiness, type KObject } from "../topology.js";
import type { Ctx } from "./ctx.js";
import { sendPanel } from "./send-view.js";
import { replaysPanel } from "./replays.js";

/** One object: Ready or why not, its conditions, spec as YAML, and for Brokers and Channels stats, tail and send. */
export function objectView(ctx: Ctx, r: { ns: string; plural: string; name: string }): HTMLElement {
  const k = byPlural(r.plural);
  const root = h("section", {}, h("h1", {}, `${k?.kind ?? r.plural} ${r.name}`));
  if (!k) {
    root.append(h("p", { class: "error" }, `The console does not know the kind "${r.plural}".`));
    return root;
  }
  const path = apiPath(k, r.ns, r.name);
  const badge = h("p", { class: "badge", role: "status" }, "Loading…");
  const conditions = h("div", { class: "scroll-x" });
  const spec = h("pre", { class: "code yaml", tabindex: "0", "aria-label": "Spec as YAML" });
  const nav = h("p", { class: "links-inline" }, h("a", { href: routePath({ view: "namespace", ns: r.ns }) }, "Topology"), k.dispatcher ? h("a", { href: routePath({ view: "deadletters", ns: r.ns, plural: r.plural, name: r.name }) }, "Dead letters") : null);
  root.append(badge, nav);
  let extras = false;

  const load = async () => {
    try {
      const o = await ctx.client.get<KObject>(path);
      const rd = readiness(o);
      badge.textContent = rd.state === "ready" ? "✓ Ready" : `✗ Not ready: ${rd.text}`;
      badge.className = `badge state-${rd.state}`;
      conditions.replaceChildren(conditionsTable(o));
      spec.textContent = stringify({ apiVersion: o.apiVersion, kind: o.kind, metadata: trimMeta(o.metadata), spec: o.spec ?? {} });
      if (!extras) {
        extras = true;
        const address: string | undefined = o.status?.address?.url;
        if (address) root.append(h("p", {}, "Address: ", h("code", {}, address)));
        root.append(h("section", { class: "panel", "aria-labelledby": "cond-h" }, h("h2", { id: "cond-h" }, "Conditions"), conditions));
        if (k.dispatcher) root.append(statsPanel(ctx.client, `${path}/stats`, ctx.signal, { api: `${path}/deadletters`, href: routePath({ view: "deadletters", ns: r.ns, plural: r.plural, name: r.name }) }));
        if (k.dispatcher) root.append(replaysPanel(ctx, r.ns, { kind: k.kind, name: r.name }));
        if (k.tail) root.append(tailPanel({ token: ctx.client.token, path: `${path}/tail`, signal: ctx.signal }));
        if (address && k.role === "hub") root.append(sendPanel(ctx, address));
        root.append(h("section", { class: "panel", "aria-labelledby": "spec-h" }, h("h2", { id: "spec-h" }, "Spec"), spec));
      }
    } catch (e) {
      badge.textContent = (e as { status?: number }).status === 404 ? `Not found: no ${k.kind} "${r.name}" in namespace ${r.ns}.` : `Could not load: ${(e as Error).message}`;
      badge.className = "badge state-not-ready";
    }
  };
  void load();
  const timer = setInterval(() => void load(), 5000);
  ctx.signal.addEventListener("abort", () => clearInterval(timer));
  return root;
}

function trimMeta(m: KObject["metadata"]): Record<string, unknown> {
  const { managedFields: _m, ...rest } = m as Record<string, unknown>;
  return rest;
}

function conditionsTable(o: KObject): HTMLElement {
  const conds: any[] = Array.isArray(o.status?.conditions) ? o.status.conditions : [];
  if (!conds.length) return h("p", {}, "No conditions reported yet.");
  return h(
    "table",
    { class: "stack" },
    h("thead", {}, h("tr", {}, ...["Type", "Status", "Reason", "Message"].map((t) => h("th", { scope: "col" }, t)), h("th", { scope: "col", class: "col-since" }, "Since"))),
    h("tbody", {}, conds.map((c) => h("tr", { class: `cond-${String(c.status).toLowerCase()}` }, h("td", { "data-label": "Type" }, String(c.type ?? "")), h("td", { "data-label": "Status" }, String(c.status ?? "")), h("td", { "data-label": "Reason" }, String(c.reason ?? "")), h("td", { "data-label": "Message" }, String(c.message ?? "")), h("td", { class: "col-since", "data-label": "Since" }, String(c.lastTransitionTime ?? ""))))),
  );
}
