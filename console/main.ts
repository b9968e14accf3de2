/**
 * The Eddy console: a single page under /console that talks to the same API as kubectl.
 * Every view is a deep link (router.ts); the token stays in session storage (api.ts).
 */
import { Client, tokenStore } from "./api.js";
import { append, clear, h } from "./dom.js";
import { parseRoute, routePath, type Route } from "./router.js";
import type { Ctx } from "./views/ctx.js";
import { deadLettersView } from "./views/deadletters.js";
import { homeView } from "./views/home.js";
import { namespaceView } from "./views/namespace.js";
import { objectView } from "./views/object.js";
import { signInView } from "./views/signin.js";

const main = document.getElementById("main")!;
const top = document.getElementById("top")!;
let current: AbortController | null = null;

function go(path: string, replace = false): void {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render();
}

function header(client: Client | null, route: Route): void {
  clear(top);
  const ns = "ns" in route ? route.ns : null;
  append(top, [
    h("a", { href: "/console", class: "brand" }, "Eddy"),
    h("nav", { "aria-label": "Where you are" }, ns ? h("a", { href: routePath({ view: "namespace", ns }) }, `namespace ${ns}`) : null),
    client ? h("button", { type: "button", class: "quiet", onclick: () => signOut() }, "Sign out") : null,
  ]);
}

function signOut(message?: string): void {
  tokenStore.clear();
  render(message);
}

function render(message?: string): void {
  current?.abort();
  current = new AbortController();
  const route = parseRoute(location.pathname);
  const token = tokenStore.get();
  clear(main);
  if (!token) {
    header(null, route);
    main.append(signInView({ message, onSignedIn: (t) => (tokenStore.set(t), render()) }));
    return;
  }
  const client = new Client(token, location.origin);
  client.onUnauthorized = () => signOut("The token was refused: sign in again.");
  header(client, route);
  const ctx: Ctx = { client, signal: current.signal, go, main };
  const view = route.view === "home" ? homeView(ctx)
    : route.view === "namespace" ? namespaceView(ctx, route.ns)
    : route.view === "object" ? objectView(ctx, route)
    : route.view === "deadletters" ? deadLettersView(ctx, route)
    : h("section", {}, h("h1", {}, "Not found"), h("p", {}, `Nothing in the console lives at ${route.path}. `, h("a", { href: "/console" }, "Start over")));
  main.append(view);
  // Move focus to the new heading so keyboard and screen-reader users land on the new view.
  const h1 = main.querySelector("h1");
  if (h1) {
    h1.setAttribute("tabindex", "-1");
    if (document.activeElement && document.activeElement !== document.body) h1.focus({ preventScroll: true });
  }
}

// Links inside the console navigate without reloading; anything else is left to the browser.
document.addEventListener("click", (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element | null)?.closest?.("a");
  const href = a?.getAttribute("href");
  if (!a || !href || !href.startsWith("/console") || a.getAttribute("target")) return;
  e.preventDefault();
  go(href);
});
window.addEventListener("popstate", () => render());
render();
