#!/usr/bin/env node
// `npm run build:console`: bundles the web console (console/*.ts, with core/cesql and the layout
// library) into dist/console, which wrangler.toml serves as Workers static assets under /console.
// Nothing is fetched at run time: every script and style the console loads is in that folder.
// `npm start`, `npm test`, `npm run bench` and `npm run deploy` run this first (package.json pre-scripts).
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist", "console");

mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: [join(root, "console", "main.ts")],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: "linked",
  write: false,
  outdir: out,
  logLevel: "warning",
  legalComments: "linked",
});
const files = {};
for (const f of result.outputFiles) files[f.path.slice(out.length + 1)] = f.contents;
const css = readFileSync(join(root, "console", "styles.css"));
files["styles.css"] = css;

// A content hash in the URLs: a new build is picked up at once, whatever a browser cached.
const hash = (buf) => createHash("sha256").update(buf).digest("hex").slice(0, 12);
const html = readFileSync(join(root, "console", "index.html"), "utf8")
  .replace("{{app}}", `/console/main.js?v=${hash(files["main.js"])}`)
  .replace("{{styles}}", `/console/styles.css?v=${hash(css)}`);
files["index.html"] = Buffer.from(html);

// Write only what changed and never empty the folder first: every `npm start` builds, and other
// Eddy instances (the e2e suite runs several) may be serving this folder at that moment.
for (const [name, contents] of Object.entries(files)) {
  const path = join(out, name);
  if (!existsSync(path) || !readFileSync(path).equals(Buffer.from(contents))) writeFileSync(path, contents);
}
for (const name of readdirSync(out)) if (!(name in files)) rmSync(join(out, name), { force: true });
console.log(`[eddy] console built into ${out}`);
