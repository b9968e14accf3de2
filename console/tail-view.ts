/** The live tail: a WebSocket to `.../tail`, a CESQL filter box, pause and resume, one event in detail. */
import { append, clear, field, h } from "./dom.js";
import { outcomeText, parseTailMessage, TailModel, type TailRow } from "./tail.js";

/** The token as a WebSocket subprotocol (browsers cannot set headers on a WebSocket). */
export function bearerProtocol(token: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(token)) bin += String.fromCharCode(b);
  return `base64url.bearer.authorization.k8s.io.${btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}

export function tailPanel(opts: { token: string; path: string; signal: AbortSignal }): HTMLElement {
  const model = new TailModel();
  const filter = h("input", { type: "text", name: "filter", spellcheck: "false", autocomplete: "off", placeholder: "type LIKE 'com.example.%' AND EXISTS subject" });
  const filterMsg = h("small", { class: "hint", role: "status" });
  const pause = h("button", { type: "button", "aria-pressed": "false" }, "Pause");
  const conn = h("span", { class: "conn", role: "status" }, "connecting…");
  const counts = h("span", { class: "hint" });
  const list = h("ol", { class: "tail-list", "aria-label": "Events, newest first" });
  const detail = h("div", { class: "tail-detail", "aria-live": "polite" });
  let selected: number | null = null;

  let scheduled = false;
  const draw = () => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      const rows = model.visible();
      list.replaceChildren(...(rows.length ? rows.slice(0, 200).map((r) => rowItem(r)) : [h("li", { class: "tail-empty hint" }, model.total ? "No event passes the filter." : "Waiting for events…")]));
      counts.textContent = `showing ${rows.length} of ${model.total}${model.paused ? `, ${model.heldCount} message${model.heldCount === 1 ? "" : "s"} held while paused` : ""}`;
      if (selected !== null) showDetail(model.find(selected));
    }, 100);
  };
  const rowItem = (r: TailRow) => {
    const e = r.event;
    const title = e ? `${String(e.attrs.type ?? "")} · ${String(e.attrs.source ?? "")}` : "(event seen before the tail connected)";
    return h(
      "li",
      { class: `tail-row${r.seq === selected ? " selected" : ""}`, "data-event-id": r.eventId },
      h("button", { type: "button", class: "linklike", onclick: () => ((selected = r.seq), showDetail(r), draw()) }, `id ${r.eventId}`),
      h("span", { class: "tail-title" }, title),
      h("span", { class: "tail-time" }, e ? new Date(e.at).toLocaleTimeString() : ""),
      h("span", { class: "tail-outcomes" }, r.deliveries.map((d) => h("span", { class: `outcome outcome-${d.outcome}` }, outcomeText(d)))),
    );
  };
  const showDetail = (r: TailRow | undefined) => {
    clear(detail);
    if (!r) return;
    const e = r.event;
    append(detail, [
      h("h3", {}, `Event ${r.eventId}`),
      e ? h("table", { class: "attrs" }, h("tbody", {}, Object.entries(e.attrs).map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, String(v)))))) : h("p", {}, "Only its delivery outcomes were seen."),
      e ? h("p", { class: "hint" }, `accepted ${e.at}${e.partition !== undefined ? `, partition ${e.partition}` : ""}, ${e.size ?? "?"} bytes`) : null,
      e?.dataPreview !== undefined ? h("pre", { class: "code" }, e.dataPreview) : null,
      r.deliveries.length ? h("ul", {}, r.deliveries.map((d) => h("li", {}, `${new Date(d.at).toLocaleTimeString()} ${outcomeText(d)}`))) : null,
      h("button", { type: "button", class: "quiet", onclick: () => ((selected = null), clear(detail), draw()) }, "Close"),
    ]);
  };

  filter.addEventListener("input", () => {
    const err = model.setFilter(filter.value);
    filter.setAttribute("aria-invalid", err ? "true" : "false");
    filterMsg.textContent = err ? `Not CESQL: ${err}` : filter.value.trim() ? "Filtering in this browser with Eddy's CESQL engine." : "";
    draw();
  });
  pause.addEventListener("click", () => {
    if (model.paused) model.resume();
    else model.pause();
    pause.textContent = model.paused ? "Resume" : "Pause";
    pause.setAttribute("aria-pressed", String(model.paused));
    draw();
  });

  connect(opts, conn, (text) => {
    const m = parseTailMessage(text);
    if (m) {
      model.receive(m);
      draw();
    }
  });
  draw();

  return h(
    "section",
    { class: "panel tail", "aria-labelledby": "tail-h" },
    h("h2", { id: "tail-h" }, "Live tail"),
    h("div", { class: "tail-controls" }, field("CESQL filter", filter), pause, conn, counts),
    filterMsg,
    h("div", { class: "tail-body" }, list, detail),
  );
}

/** Keeps a tail socket open while the view is, reconnecting with a growing pause. */
function connect(opts: { token: string; path: string; signal: AbortSignal }, conn: HTMLElement, onMessage: (text: string) => void): void {
  let delay = 1000;
  let ws: WebSocket | null = null;
  const open = () => {
    if (opts.signal.aborted) return;
    const url = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${opts.path}`;
    ws = new WebSocket(url, ["eddy.tail.v1", bearerProtocol(opts.token)]);
    ws.onopen = () => {
      delay = 1000;
      conn.textContent = "live";
      conn.className = "conn conn-live";
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") for (const line of ev.data.split("\n")) if (line.trim()) onMessage(line);
    };
    ws.onclose = (ev) => {
      if (opts.signal.aborted) return;
      conn.textContent = `disconnected${ev.code && ev.code !== 1006 ? ` (${ev.code}${ev.reason ? `: ${ev.reason}` : ""})` : ""}, retrying in ${Math.round(delay / 1000)} s`;
      conn.className = "conn conn-down";
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 15_000);
    };
  };
  opts.signal.addEventListener("abort", () => ws?.close(1000, "left the page"));
  open();
}
