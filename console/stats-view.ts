/** Counters, drops by reason and a small SVG chart of rates; polls `/stats` every few seconds. */
import type { Client } from "./api.js";
import { clear, h, s } from "./dom.js";
import { dropsByReason, niceMax, RateHistory, SERIES, seriesValue, type Series, type StatsBody } from "./stats.js";

const POLL_MS = 3000;
const LABEL: Record<Series, string> = { accepted: "accepted", delivered: "delivered", retried: "retried", deadLettered: "dead-lettered", dropped: "dropped" };

/** Where an owner's kept dead letters are: the API list (counted for the tile) and the console page. */
export interface DeadLettersLink {
  api: string;
  href: string;
}

export function statsPanel(client: Client, path: string, signal: AbortSignal, deadLetters?: DeadLettersLink): HTMLElement {
  const history = new RateHistory();
  const body = h("div", { class: "stats-body" }, h("p", {}, "Loading stats…"));
  const panel = h("section", { class: "panel", "aria-labelledby": "stats-h" }, h("h2", { id: "stats-h" }, "Stats"), body);

  const tick = async () => {
    try {
      // The counters say how many were ever kept; the tile shows how many are kept now.
      const [st, kept] = await Promise.all([
        client.get<StatsBody>(path),
        deadLetters ? client.get<{ items?: unknown[] }>(deadLetters.api).then((r) => r.items?.length ?? 0, () => undefined) : undefined,
      ]);
      history.add(Date.now(), st.counters ?? {});
      render(body, st, history, deadLetters && kept !== undefined ? { ...deadLetters, kept } : undefined);
    } catch (e) {
      clear(body);
      body.append(h("p", { class: "error" }, `Stats unavailable: ${(e as Error).message}`));
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), POLL_MS);
  signal.addEventListener("abort", () => clearInterval(timer));
  return panel;
}

function render(el: HTMLElement, st: StatsBody, history: RateHistory, deadLetters?: DeadLettersLink & { kept: number }): void {
  clear(el);
  const c = st.counters ?? {};
  const keptTile = deadLetters
    ? [h("dt", {}, "dead letters kept"), h("dd", { "data-counter": "kept" }, h("a", { href: deadLetters.href, title: "Open the kept dead letters" }, String(deadLetters.kept)))]
    : [];
  el.append(
    h("dl", { class: "counters" }, ...SERIES.flatMap((k) => [h("dt", {}, LABEL[k]), h("dd", { "data-counter": k }, String(seriesValue(c, k)))]), h("dt", {}, "pending"), h("dd", { "data-counter": "pending" }, String(st.pending ?? 0)), ...keptTile),
  );
  const drops = dropsByReason(c);
  if (drops.length) el.append(h("p", { class: "drops" }, "Dropped by reason: ", drops.map(([r, n]) => `${r} ${n}`).join(", ")));
  el.append(chart(history));
  const recent = (st.recentDrops ?? []).slice(-5).reverse();
  if (recent.length) {
    el.append(h("details", {}, h("summary", {}, `Recent drops (${recent.length})`), h("ul", {}, recent.map((d) => h("li", {}, [d.at, d.reason, d.type, d.eventId ?? d.id, d.route].filter(Boolean).join(" · "))))));
  }
}

const H = 140;
const PAD = { l: 40, r: 8, t: 10, b: 22 };

function chart(history: RateHistory): Element {
  // A narrower drawing on phones, so its labels keep a readable size once scaled to the screen.
  const W = window.innerWidth < 700 ? 340 : 560;
  const series = SERIES.map((name) => ({ name, points: history.rates(name) }));
  const all = series.flatMap((x) => x.points);
  if (!all.length) return h("p", { class: "hint" }, "The rate chart fills in as stats are polled (every 3 s).");
  const t1 = Math.max(...all.map((p) => p.t));
  const t0 = Math.min(t1 - 60_000, ...all.map((p) => p.t));
  const top = niceMax(Math.max(...all.map((p) => p.perSecond)));
  const x = (t: number) => PAD.l + ((t - t0) / Math.max(1, t1 - t0)) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / top) * (H - PAD.t - PAD.b);
  const latest = series.map((sr) => `${LABEL[sr.name]} ${(sr.points.at(-1)?.perSecond ?? 0).toFixed(1)}/s`).join(", ");
  const svg = s(
    "svg",
    { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `Rates over the last ${Math.round((t1 - t0) / 60_000) || 1} min: ${latest}` },
    s("line", { x1: PAD.l, y1: y(0), x2: W - PAD.r, y2: y(0), class: "axis" }),
    s("line", { x1: PAD.l, y1: y(top), x2: W - PAD.r, y2: y(top), class: "grid" }),
    s("text", { x: PAD.l - 4, y: y(top) + 4, "text-anchor": "end", class: "tick" }, `${top}/s`),
    s("text", { x: PAD.l - 4, y: y(0) + 4, "text-anchor": "end", class: "tick" }, "0"),
    s("text", { x: PAD.l, y: H - 6, class: "tick" }, `${Math.round((t1 - t0) / 1000)} s ago`),
    s("text", { x: W - PAD.r, y: H - 6, "text-anchor": "end", class: "tick" }, "now"),
  );
  for (const sr of series) {
    if (!sr.points.length) continue;
    svg.appendChild(s("polyline", { points: sr.points.map((p) => `${x(p.t).toFixed(1)},${y(p.perSecond).toFixed(1)}`).join(" "), class: `line line-${sr.name}` }));
    // The newest rate as a dot: visible from the first poll on, before there is a line to draw.
    const last = sr.points.at(-1)!;
    svg.appendChild(s("circle", { cx: x(last.t).toFixed(1), cy: y(last.perSecond).toFixed(1), r: 3, class: `dot line-${sr.name}` }));
  }
  const legend = h("ul", { class: "legend" }, series.map((sr) => h("li", { class: `key key-${sr.name}` }, `${LABEL[sr.name]} ${(sr.points.at(-1)?.perSecond ?? 0).toFixed(1)}/s`)));
  return h("figure", { class: "chart-box" }, svg, h("figcaption", {}, "Events per second over the last minutes"), legend);
}
