/** Lays the topology out left to right with dagre (runtime-free, so it is unit-tested in Node). */
import { graphlib, layout } from "@dagrejs/dagre";
import type { Graph, GraphEdge, GraphNode } from "./topology.js";

export const NODE_W = 210;
export const NODE_H = 66;

export interface PlacedNode extends GraphNode {
  x: number;
  y: number;
}

export interface PlacedEdge extends GraphEdge {
  points: { x: number; y: number }[];
  labelAt?: { x: number; y: number };
}

export interface Placed {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

/** Left to right on wide screens; top to bottom on phones, where width is what runs out. */
export function layoutGraph(graph: Graph, direction: "LR" | "TB" = "LR"): Placed {
  const g = new graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: direction, nodesep: direction === "LR" ? 24 : 16, ranksep: direction === "LR" ? 56 : 44, marginx: 12, marginy: 12 });
  for (const n of graph.nodes) g.setNode(n.id, { width: NODE_W, height: NODE_H });
  graph.edges.forEach((e, i) => {
    // Dead letters are a side exit: a lighter weight keeps the main flow straight.
    g.setEdge(e.from, e.to, { width: e.label ? Math.min(140, e.label.length * 7) : 0, height: e.label ? 16 : 0, labelpos: "c", weight: e.kind === "dead-letter" ? 1 : 3 }, `e${i}`);
  });
  layout(g);
  const nodes = graph.nodes.map((n) => {
    const p = g.node(n.id) as { x: number; y: number };
    return { ...n, x: p.x, y: p.y };
  });
  const edges = graph.edges.map((e, i) => {
    const l = g.edge(e.from, e.to, `e${i}`) as { points?: { x: number; y: number }[]; x?: number; y?: number };
    return { ...e, points: l.points ?? [], ...(e.label && l.x !== undefined && l.y !== undefined ? { labelAt: { x: l.x, y: l.y } } : {}) };
  });
  const gl = g.graph() as { width?: number; height?: number };
  return { nodes, edges, width: Math.ceil(gl.width ?? 0), height: Math.ceil(gl.height ?? 0) };
}
