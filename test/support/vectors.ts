// Turns the CloudEvents conformance tool's YAML vectors (test/fixtures/conformance/http-binding,
// Apache-2.0, see its ATTRIBUTION.md) into HTTP requests exactly as the tool's `invoke` does.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { fixturePath } from "./fixtures.js";

export const VECTOR_DIR = () => fixturePath("http-binding", "yaml");
export const VECTOR_FILES = ["v1.yaml", "v03.yaml", "v1.0/v1_minimum.yaml", "v0.3/v03_minimum.yaml"];

export interface Vector {
  file: string;
  index: number;
  mode: "binary" | "structured";
  attrs: Record<string, string>;
  extensions: Record<string, string>;
  data: string;
  headers: Record<string, string>;
  body: string;
  /** The data bytes a receiver must pass on: the Data as sent (binary) or the JSON text embedded (structured). */
  expectedData: string;
}

export function loadVectors(): Vector[] {
  const out: Vector[] = [];
  for (const file of VECTOR_FILES) {
    // The failsafe schema keeps every scalar a string, so specversion 1.0 stays "1.0".
    const docs = parseAllDocuments(readFileSync(join(VECTOR_DIR(), file), "utf8"), { schema: "failsafe" });
    docs.forEach((d, index) => {
      const doc = d.toJS() as Record<string, any>;
      if (!doc) return;
      const ctx = { ...(doc.ContextAttributes ?? {}) } as Record<string, any>;
      const extensions: Record<string, string> = {};
      for (const [k, v] of Object.entries((ctx.Extensions ?? {}) as Record<string, string>)) {
        const t = String(v).trim();
        if (t) extensions[k] = t;
      }
      delete ctx.Extensions;
      const attrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(ctx)) {
        const t = String(v).trim();
        if (t) attrs[k] = t;
      }
      const mode = doc.Mode === "structured" ? "structured" : "binary";
      const data = String(doc.Data ?? "");
      const transport = (doc.TransportExtensions ?? {}) as Record<string, string>;
      let headers: Record<string, string>;
      let body: string;
      let expectedData: string;
      if (mode === "binary") {
        headers = { ...transport };
        for (const [k, v] of Object.entries({ ...attrs, ...extensions })) {
          if (k === "datacontenttype") headers["Content-Type"] = v;
          else headers[`ce-${k}`] = v;
        }
        body = data;
        expectedData = data;
      } else {
        const obj: Record<string, unknown> = { ...attrs, ...extensions, data: JSON.parse(data) };
        headers = { "Content-Type": "application/cloudevents+json; charset=UTF-8", ...transport };
        body = JSON.stringify(obj);
        expectedData = JSON.stringify(obj.data);
      }
      out.push({ file, index, mode, attrs, extensions, data, headers, body, expectedData });
    });
  }
  return out;
}
