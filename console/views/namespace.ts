import { drawGraph } from "../graph-view.js";
import { h } from "../dom.js";
import { apiPath, byKind, KINDS } from "../kinds.js";
import { layoutGraph } from "../layout.js";
import { routePath } from "../router.js";
import { buildGraph, readiness, type KObject } from "../topology.js";
import { applyPanel } from "./apply-view.js";
import type { Ctx } from "./ctx.js";

const REFRESH_MS = 5000;

/**
 * Every object of the namespace the caller may list, by kind; a kind the server does not serve counts
 * as empty, and one RBAC does not let the caller list (403) is left out and named in `hidden`.
 */
export async function listNamespace(ctx: Ctx, ns: string): Promise<{ objects: KObject[]; hidden: string[] }> {
  const hidden: string[] = [];
  const lists = await Promise.all(
    KINDS.map((k) =>
      ctx.client.get<{ items?: KObject[] }>(apiPath(k, ns)).then(
        (r) => (r.items ?? []).map((o) => ({ ...o, kind: o.kind ?? k.kind, apiVersion: o.apiVersion ?? `${k.group}/${k.version}` })),
        (e: { status?: number }) => {
          if (e.status === 403) hidden.push(k.plural);
          if (e.status === 404 || e.status === 403) return [];
          throw e;
        },
      ),
    ),
  );
  return { objects: lists.flat(), hidden: hidden.sort() };
}

/** The topology of a namespace, the list of its objects, and the manifest box. */
export function namespaceView(ctx: Ctx, ns: string): HTMLElement {
  const graphBox = h("div", { class: "graph-box", tabindex: "0", "aria-label": "Topology graph (scrolls)" }, h("p", {}, "Loading…"));
  const table = h("div", { class: "objects" });
  const status = h("p", { class: "hint", role: "status" });
  let last = "";

  const load = async () => {
    try {
      const { objects, hidden } = await listNamespace(ctx, ns);
      const key = JSON.stringify(objects.map((o) => [o.kind, o.metadata.name, o.metadata.resourceVersion, readiness(o).text]));
      if (key === last) return;
      last = key;
      const graph = buildGraph(objects);
      const href = (plural: string, name: string) => routePath({ view: "object", ns, plural, name });
      const tall = window.innerWidth < 700;
      const placed = layoutGraph(graph, tall ? "TB" : "LR");
      graphBox.replaceChildren(graph.nodes.length ? drawGraph(placed, href) : h("p", {}, "Nothing in this namespace yet: apply a manifest below."));
      // Top to bottom, the graph is often wider than a phone: start with its first node in view.
      const first = [...placed.nodes].sort((a, b) => a.y - b.y || a.x - b.x)[0];
      const svg = graphBox.querySelector("svg");
      if (tall && first && svg) graphBox.scrollLeft = first.x * (svg.clientWidth / Math.max(1, placed.width)) - graphBox.clientWidth / 2;
      table.replaceChildren(objectsTable(ns, objects));
      const notShown = hidden.length ? `; not shown, as this token may not list them: ${hidden.join(", ")}` : "";
      status.textContent = `${objects.length} object${objects.length === 1 ? "" : "s"}, updated ${new Date().toLocaleTimeString()}${notShown}`;
    } catch (e) {
      status.textContent = `Could not list the namespace: ${(e as Error).message}`;
    }
  };
  void load();
  const timer = setInterval(() => void load(), REFRESH_MS);
  // Turning a phone (or resizing a window) across the breakpoint switches the graph's direction.
  const narrow = window.matchMedia("(max-width: 699px)");
  const relayout = () => {
    last = "";
    void load();
  };
  narrow.addEventListener("change", relayout);
  ctx.signal.addEventListener("abort", () => {
    clearInterval(timer);
    narrow.removeEventListener("change", relayout);
  });

  return h(
    "section",
    {},
    h("h1", {}, `Namespace ${ns}`),
    status,
    h("section", { class: "panel", "aria-labelledby": "topo-h" }, h("h2", { id: "topo-h" }, "Topology"), graphBox, legend()),
    h("section", { class: "panel", "aria-labelledby": "obj-h" }, h("h2", { id: "obj-h" }, "Objects"), table),
    applyPanel(ctx, ns, () => {
      last = "";
      void load();
    }),
  );
}

function legend(): HTMLElement {
  return h("p", { class: "hint legend-line" }, "Arrows: ", h("span", { class: "k-flow" }, "events"), " · ", h("span", { class: "k-reply" }, "replies"), " · ", h("span", { class: "k-dls" }, "dead letters"), ". ✓ Ready, ✗ the reason it is not.");
}

function objectsTable(ns: string, objects: KObject[]): HTMLElement {
  if (!objects.length) return h("p", {}, "No objects.");
  const rows = [...objects].sort((a, b) => a.kind.localeCompare(b.kind) || a.metadata.name.localeCompare(b.metadata.name));
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Kind"), h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Ready"))),
    h(
      "tbody",
      {},
      rows.map((o) => {
        const k = byKind(o.kind);
        const r = readiness(o);
        return h(
          "tr",
          {},
          h("td", {}, o.kind),
          h("td", {}, k ? h("a", { href: routePath({ view: "object", ns, plural: k.plural, name: o.metadata.name }) }, o.metadata.name) : o.metadata.name),
          h("td", { class: `state-${r.state}` }, r.text),
        );
      }),
    ),
  );
}
