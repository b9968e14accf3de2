import { ApiFailure } from "../api.js";
import { clear, h, timeAgo } from "../dom.js";
import { apiPath, byPlural } from "../kinds.js";
import { routePath } from "../router.js";
import { failure } from "./apply-view.js";
import type { Ctx } from "./ctx.js";

interface Entry {
  id: string;
  eventId?: string;
  type?: string;
  source?: string;
  /** The Trigger (Brokers) or Subscription (channels) that could not deliver it. */
  trigger?: string;
  subscription?: string;
  status?: number;
  reason?: string;
  attempts?: number;
  at?: string;
}

/**
 * Kept dead letters of a Broker or Channel: list, open one, redrive the selected or all, purge.
 * The open entry is part of the URL (`.../deadletters/{id}`), so it can be shared and reloaded.
 */
export function deadLettersView(ctx: Ctx, r: { ns: string; plural: string; name: string; id?: string }): HTMLElement {
  const k = byPlural(r.plural);
  const root = h("section", {}, h("h1", {}, `Dead letters of ${k?.kind ?? r.plural} ${r.name}`));
  if (!k?.dispatcher) {
    root.append(h("p", { class: "error" }, `${r.plural} keep no dead letters.`));
    return root;
  }
  const base = `${apiPath(k, r.ns, r.name)}/deadletters`;
  const selected = new Set<string>();
  let entries: Entry[] = [];
  const msg = h("div", { "aria-live": "polite" });
  const table = h("div", { class: "dl-table" }, h("p", {}, "Loading…"));
  const detail = h("div", { class: "dl-detail", "aria-live": "polite" });
  const say = (text: string, ok = true) => msg.replaceChildren(h("p", { class: ok ? "ok" : "error", role: ok ? "status" : "alert" }, text));
  const fail = (e: unknown) => msg.replaceChildren(failure("dead letters", e instanceof ApiFailure ? e : new ApiFailure(0, (e as Error).message)));

  let shown = "";
  const load = async () => {
    try {
      entries = (await ctx.client.get<{ items?: Entry[] }>(base)).items ?? [];
      for (const id of [...selected]) if (!entries.some((e) => e.id === id)) selected.delete(id);
      // Redraw only on change: a redraw would take the keyboard focus off a checkbox.
      const key = JSON.stringify(entries);
      if (key === shown) return;
      shown = key;
      table.replaceChildren(render());
    } catch (e) {
      table.replaceChildren(h("p", { class: "error" }, (e as ApiFailure).status === 404 ? "This server keeps no dead letters for it (404)." : `Could not list dead letters: ${(e as Error).message}`));
    }
  };
  const open = async (id: string) => {
    clear(detail);
    // The URL names the open entry; a click pushes it (Back closes it), a deep link already has it.
    const here = routePath({ view: "deadletters", ns: r.ns, plural: r.plural, name: r.name, id });
    if (location.pathname !== here) history.pushState(null, "", here);
    try {
      const d = await ctx.client.get<Entry & { event?: unknown }>(`${base}/${encodeURIComponent(id)}`);
      const { event, ...entry } = d;
      detail.append(h("h2", {}, `Dead letter ${id}`), h("pre", { class: "code" }, JSON.stringify(entry, null, 2)), h("h3", {}, "Event"), h("pre", { class: "code", tabindex: "0" }, JSON.stringify(event, null, 2)));
    } catch (e) {
      fail(e);
    }
  };
  const redrive = async (body: Record<string, unknown>, what: string) => {
    try {
      const res = await ctx.client.json<{ redriven?: number }>("POST", `${base}/redrive`, body);
      say(`Redrove ${res.redriven ?? 0} ${what}.`);
      selected.clear();
      await load();
    } catch (e) {
      fail(e);
    }
  };
  let confirmPurge = false;
  const purgeButton = h("button", { type: "button", class: "danger" }, "Purge selected");
  purgeButton.addEventListener("click", async () => {
    if (!selected.size) return say("Select the dead letters to purge first.", false);
    // Two steps instead of a dialog: purging cannot be undone.
    if (!confirmPurge) {
      confirmPurge = true;
      purgeButton.textContent = `Confirm: purge ${selected.size}`;
      return;
    }
    confirmPurge = false;
    purgeButton.textContent = "Purge selected";
    let n = 0;
    for (const id of [...selected]) {
      try {
        await ctx.client.json("DELETE", `${base}/${encodeURIComponent(id)}`);
        n++;
      } catch (e) {
        fail(e);
        break;
      }
    }
    say(`Purged ${n}.`);
    selected.clear();
    await load();
  });

  const render = () => {
    if (!entries.length) return h("p", {}, "No dead letters kept.");
    const all = h("input", { type: "checkbox", "aria-label": "Select all", checked: selected.size === entries.length });
    all.addEventListener("change", () => {
      for (const e of entries) (all.checked ? selected.add(e.id) : selected.delete(e.id));
      table.replaceChildren(render());
    });
    return h(
      "table",
      {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, all), ...["Event", "Type", "Source", k.plural === "brokers" ? "Trigger" : "Subscription", "Status", "Reason", "Attempts", "When"].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        entries.map((e) => {
          const box = h("input", { type: "checkbox", "aria-label": `Select ${e.eventId ?? e.id}`, checked: selected.has(e.id) });
          box.addEventListener("change", () => (box.checked ? selected.add(e.id) : selected.delete(e.id)));
          return h(
            "tr",
            { "data-dead-letter": e.id },
            h("td", {}, box),
            h("td", {}, h("button", { type: "button", class: "linklike", onclick: () => void open(e.id) }, e.eventId ?? e.id)),
            h("td", {}, e.type ?? ""),
            h("td", {}, e.source ?? ""),
            h("td", {}, e.trigger ?? e.subscription ?? ""),
            h("td", {}, e.status ? String(e.status) : ""),
            h("td", {}, e.reason ?? ""),
            h("td", {}, e.attempts !== undefined ? String(e.attempts) : ""),
            h("td", { title: e.at ?? "" }, timeAgo(e.at)),
          );
        }),
      ),
    );
  };

  root.append(
    h("p", { class: "links-inline" }, h("a", { href: routePath({ view: "object", ns: r.ns, plural: r.plural, name: r.name }) }, `${k.kind} ${r.name}`), h("a", { href: routePath({ view: "namespace", ns: r.ns }) }, "Topology")),
    h(
      "div",
      { class: "toolbar", role: "toolbar", "aria-label": "Dead-letter actions" },
      h("button", { type: "button", onclick: () => (selected.size ? void redrive({ ids: [...selected] }, "selected") : say("Select the dead letters to redrive first.", false)) }, "Redrive selected"),
      h("button", { type: "button", onclick: () => void redrive({ all: true }, "in all") }, "Redrive all"),
      purgeButton,
      h("button", { type: "button", class: "quiet", onclick: () => void load() }, "Refresh"),
    ),
    msg,
    table,
    detail,
  );
  void load();
  if (r.id) void open(r.id);
  const timer = setInterval(() => void load(), 5000);
  ctx.signal.addEventListener("abort", () => clearInterval(timer));
  return root;
}
