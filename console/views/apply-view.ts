import { ApiFailure, failureFrom } from "../api.js";
import { field, h } from "../dom.js";
import { ManifestInvalid, planApply } from "../apply.js";
import type { Ctx } from "./ctx.js";

/** A box for a pasted manifest; each object is PUT, and a refusal shows the API's message and the fields it names. */
export function applyPanel(ctx: Ctx, ns: string, onApplied: () => void): HTMLElement {
  const text = h("textarea", { name: "manifest", rows: 10, spellcheck: "false", class: "code" });
  const results = h("div", { class: "apply-results", "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Apply");
  const form = h("form", {}, field("Manifest (YAML or JSON)", text, `Objects without metadata.namespace go to ${ns}. Several YAML documents may be separated by ---.`), button, results);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    results.replaceChildren();
    button.disabled = true;
    try {
      const plans = planApply(text.value, ns);
      let ok = 0;
      for (const p of plans) {
        const a = await ctx.client.raw("PUT", p.path, JSON.stringify(p.body), { "Content-Type": "application/json" });
        if (a.status === 401) ctx.client.onUnauthorized();
        if (a.status >= 200 && a.status < 300) {
          ok++;
          results.append(h("p", { class: "ok" }, `${p.label}: ${a.status === 201 ? "created" : "applied"}`));
        } else {
          results.append(failure(p.label, failureFrom(a.status, a.body)));
        }
      }
      if (ok) onApplied();
    } catch (err) {
      if (err instanceof ManifestInvalid) results.append(failure("manifest", new ApiFailure(0, err.message, err.field ? [{ field: err.field }] : [])));
      else results.append(failure("manifest", err instanceof ApiFailure ? err : new ApiFailure(0, (err as Error).message)));
    } finally {
      button.disabled = false;
    }
  });
  return h("section", { class: "panel", "aria-labelledby": "apply-h" }, h("h2", { id: "apply-h" }, "Apply a manifest"), form);
}

/** The API's message, and each field its Status names, so the fix is obvious. */
export function failure(label: string, f: ApiFailure): HTMLElement {
  const fields = f.causes.filter((c) => c.field);
  return h(
    "div",
    { class: "error-box", role: "alert" },
    h("p", {}, h("strong", {}, `${label}: ${f.status ? `refused (${f.status})` : "not sent"}`), " ", f.message),
    fields.length
      ? h("ul", { class: "causes" }, fields.map((c) => h("li", {}, h("span", { class: "field-name" }, `Field ${c.field}`), c.message ? `: ${c.message}` : "")))
      : null,
  );
}
