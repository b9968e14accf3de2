import { Hono } from "hono";
import type { Env } from "./env.js";

/**
 * The web console (console/, built into dist/console by scripts/build-console.mjs) under /console.
 * wrangler.toml sets `run_worker_first = true`, so the ingress and API paths reach the Worker
 * without an asset lookup first, and only this route ever reads the ASSETS binding.
 */
type ConsoleEnv = Env & { ASSETS?: Fetcher };

export const consoleRoutes = new Hono<{ Bindings: ConsoleEnv }>();

// A built file: a name with an extension right under /console (main.js, styles.css, main.js.map...).
const FILE = /^\/[\w.-]+\.(?:js|css|map|txt|svg|png|ico)$/;

// Everything the console loads comes from this origin; the API and the tail are same-origin too.
const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

consoleRoutes.on(["GET", "HEAD"], "*", async (c) => {
  const assets = c.env.ASSETS;
  if (!assets) return c.text("the console is not built into this deployment: run npm run build:console\n", 503);
  const url = new URL(c.req.url);
  const rest = url.pathname.replace(/^\/console/, "") || "/";
  // Deep links (/console/namespaces/...) are the single page's routes: they all get the shell,
  // so a shared or reloaded link opens where it points.
  const file = FILE.test(rest) ? rest : "/";
  const res = await assets.fetch(new Request(new URL(file, url.origin), { method: c.req.method, headers: c.req.raw.headers }));
  const headers = new Headers(res.headers);
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) headers.set(k, v);
  // The shell names each build's files by content hash, so only the shell must be revalidated.
  if (file === "/") headers.set("Cache-Control", "no-cache");
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
});
