import { field, h } from "../dom.js";
import { routePath } from "../router.js";
import type { Ctx } from "./ctx.js";

/** The namespaces in use (when the API lists them), and a box to open any namespace by name. */
export function homeView(ctx: Ctx): HTMLElement {
  const list = h("div", { class: "ns-list" }, h("p", {}, "Loading namespaces…"));
  const input = h("input", { type: "text", name: "namespace", required: true, autocomplete: "off", spellcheck: "false", pattern: "[a-z0-9]([-a-z0-9]*[a-z0-9])?" });
  const form = h("form", { class: "inline-form" }, field("Namespace", input, "A namespace exists once something is created in it."), h("button", { type: "submit" }, "Open"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (input.value.trim()) ctx.go(routePath({ view: "namespace", ns: input.value.trim() }));
  });
  ctx.client
    .get<{ items?: { metadata?: { name?: string } }[] }>("/api/v1/namespaces")
    .then((r) => {
      const names = (r.items ?? []).map((i) => i.metadata?.name).filter((n): n is string => !!n).sort();
      list.replaceChildren(
        names.length
          ? h("ul", { class: "links" }, names.map((n) => h("li", {}, h("a", { href: routePath({ view: "namespace", ns: n }) }, n))))
          : h("p", {}, "No namespace has objects yet."),
      );
    })
    .catch((e: { status?: number }) => list.replaceChildren(h("p", {}, e.status === 403 ? "This token may not list namespaces; type the one you may see below." : "This server does not list namespaces; type one below.")));
  return h("section", {}, h("h1", {}, "Namespaces"), list, form);
}
