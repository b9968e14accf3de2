/** Draws a laid-out topology as SVG: each node a link to its object's page. */
import { s } from "./dom.js";
import { NODE_H, NODE_W, type Placed } from "./layout.js";

const ICON: Record<string, string> = { ready: "✓", "not-ready": "✗", unknown: "…", none: "" };

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function drawGraph(placed: Placed, href: (plural: string, name: string) => string): SVGSVGElement {
  const svg = s("svg", {
    class: "graph",
    viewBox: `0 0 ${Math.max(placed.width, NODE_W + 24)} ${Math.max(placed.height, NODE_H + 24)}`,
    role: "group",
    "aria-label": "Topology: sources, Brokers and Channels, Triggers and Subscriptions, and where they deliver",
  });
  svg.appendChild(
    s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }))),
  );
  // Fit the box's width, but never below three quarters of natural size (the box scrolls then):
  // smaller than that, node names stop being readable. CSSOM styles are allowed by the CSP.
  const natural = Math.max(placed.width, NODE_W + 24);
  svg.style.maxWidth = `${natural}px`;
  svg.style.minWidth = `${Math.min(natural, Math.max(NODE_W * 2, natural * 0.75))}px`;
  for (const e of placed.edges) {
    if (!e.points.length) continue;
    const d = e.points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
    svg.appendChild(s("path", { d, class: `edge edge-${e.kind}`, "marker-end": "url(#arrow)" }));
    if (e.label && e.labelAt) svg.appendChild(s("text", { x: e.labelAt.x, y: e.labelAt.y + 4, class: "edge-label", "text-anchor": "middle" }, clip(e.label, 22)));
  }
  for (const n of placed.nodes) {
    const x = n.x - NODE_W / 2;
    const y = n.y - NODE_H / 2;
    const status = n.state === "none" ? clip(n.detail, 30) : `${ICON[n.state]} ${clip(n.detail, 28)}`;
    const body = s(
      "g",
      { class: `node node-${n.state}`, "data-node": n.id },
      s("title", {}, `${n.caption} ${n.label}: ${n.detail}`),
      s("rect", { x, y, width: NODE_W, height: NODE_H, rx: 8 }),
      s("text", { x: x + 10, y: y + 18, class: "node-caption" }, clip(n.caption, 30)),
      s("text", { x: x + 10, y: y + 37, class: "node-label" }, clip(n.label, 26)),
      s("text", { x: x + 10, y: y + 56, class: "node-status" }, status),
    );
    if (n.link) {
      const a = s("a", { href: href(n.link.plural, n.link.name), "aria-label": `${n.caption} ${n.label}: ${n.detail}` }, body);
      svg.appendChild(a);
    } else {
      svg.appendChild(body);
    }
  }
  return svg;
}
