// The console's files are served under /console only, every deep link gets the page shell, and
// nothing else changes: the root and the ingress paths answer exactly as without the console.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

const ORIGIN = "http://eddy.test";

describe("console assets", () => {
  it("serves the shell at /console and at every deep link, with a CSP that allows only this origin", async () => {
    for (const path of ["/console", "/console/", "/console/namespaces/demo", "/console/namespaces/demo/brokers/default/deadletters"]) {
      const r = await SELF.fetch(ORIGIN + path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get("content-type")).toMatch(/^text\/html/);
      expect(r.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(r.headers.get("cache-control")).toBe("no-cache");
      const html = await r.text();
      expect(html).toContain('<script type="module" src="/console/main.js?v=');
      // No file from anywhere else: every URL in the page is a path on this origin.
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    }
  });

  it("serves the bundle and the styles, and 404s a file that is not there", async () => {
    const js = await SELF.fetch(`${ORIGIN}/console/main.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    expect((await js.text()).length).toBeGreaterThan(1000);
    const css = await SELF.fetch(`${ORIGIN}/console/styles.css`);
    expect(css.status).toBe(200);
    await css.arrayBuffer();
    const missing = await SELF.fetch(`${ORIGIN}/console/nope.js`);
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
  });

  it("leaves everything outside /console to the Worker's own routes", async () => {
    const index = await SELF.fetch(`${ORIGIN}/index.html`);
    expect(index.status).toBe(404);
    const text = await index.text();
    expect(text).toMatch(/^no route for GET \/index.html/);
    expect(text).toContain("the web console under /console");
    const root = await SELF.fetch(`${ORIGIN}/main.js`);
    expect(root.status).toBe(404);
    await root.arrayBuffer();
    const ingress = await SELF.fetch(`${ORIGIN}/brokers/nowhere/none`, { method: "GET" });
    expect(ingress.status).toBe(405);
    await ingress.arrayBuffer();
    const post = await SELF.fetch(`${ORIGIN}/console`, { method: "POST", body: "x" });
    expect(post.status).toBe(404);
    await post.arrayBuffer();
  });

  it("points at the console from the root", async () => {
    const r = await SELF.fetch(`${ORIGIN}/`);
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).toContain(`The web console: ${ORIGIN}/console`);
    expect(text).toContain("/brokers/{ns}/{name}");
  });
});
