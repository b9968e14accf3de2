// The CloudEvents conformance tool's HTTP vectors (github.com/cloudevents/conformance @ 7a8ee0ac,
// Apache-2.0; see test/fixtures/conformance/http-binding/ATTRIBUTION.md), turned into requests exactly as
// the tool's `invoke` does (pkg/http/http.go), then read with parseMessage and re-encoded.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { encodeBinary, encodeStructured } from "../../core/cloudevents/encode.js";
import { dataMediaType, isJsonMediaType, type CloudEvent } from "../../core/cloudevents/event.js";
import { parseMessage } from "../../core/cloudevents/http.js";

const DIR = new URL("../fixtures/conformance/http-binding/", import.meta.url);
const FILES = ["yaml/v1.yaml", "yaml/v03.yaml", "yaml/v1.0/v1_minimum.yaml", "yaml/v0.3/v03_minimum.yaml"];
const enc = new TextEncoder();
const dec = new TextDecoder();

interface Request {
  name: string;
  mode: "binary" | "structured";
  headers: [string, string][];
  body: string;
  attrs: Record<string, string>;
  /** The data bytes a receiver must hand on: Data as sent (binary), the JSON text in the body (structured). */
  data: string | undefined;
}

// Go's encoding/json escapes <, > and & (and U+2028/9) in strings; json.Marshal compacts a RawMessage.
const goEscape = (s: string) => s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
const goString = (s: string) => goEscape(JSON.stringify(s));
function goCompact(json: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (inString) {
      if (c === "\\") out += c + json[++i];
      else out += goEscape(c);
      if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (!/\s/.test(c)) out += c;
  }
  return out;
}

/** The tool's invoke: known attributes in a fixed set, values trimmed, empty ones left out. */
function toRequest(doc: Record<string, unknown>, name: string): Request {
  const ctx = (doc.ContextAttributes ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v.trim() : "");
  const attrs: Record<string, string> = {};
  // invoke sends these; the YAML key for datacontentencoding is the tool's own misspelling.
  const known: [string, string][] = [["specversion", "specversion"], ["type", "type"], ["time", "time"], ["id", "id"], ["source", "source"],
    ["subject", "subject"], ["schemaurl", "schemaurl"], ["datacontenttype", "datacontenttype"], ["dataecontentncoding", "datacontentencoding"]];
  for (const [yamlKey, attr] of known) if (str(ctx[yamlKey])) attrs[attr] = str(ctx[yamlKey]);
  for (const [k, v] of Object.entries((ctx.Extensions ?? {}) as Record<string, unknown>)) if (str(v)) attrs[k] = str(v);
  const transport = Object.entries((doc.TransportExtensions ?? {}) as Record<string, unknown>).filter(([, v]) => str(v)).map(([k, v]) => [k, str(v)] as [string, string]);
  const data = typeof doc.Data === "string" ? doc.Data : "";
  if (doc.Mode === "structured") {
    const env: Record<string, string> = { ...attrs };
    const members = Object.keys(env).map((k) => [k, goString(env[k]!)]);
    if (data) members.push(["data", goCompact(data)]);
    members.sort(([a], [b]) => (a! < b! ? -1 : 1)); // Go marshals map keys sorted
    const body = `{${members.map(([k, v]) => `${goString(k!)}:${v}`).join(",")}}`;
    return { name, mode: "structured", headers: [...transport, ["Content-Type", "application/cloudevents+json; charset=UTF-8"]], body, attrs, data: data ? goCompact(data) : undefined };
  }
  const headers: [string, string][] = Object.entries(attrs).map(([k, v]) => [k === "datacontenttype" ? "Content-Type" : `ce-${k}`, v]);
  return { name, mode: "binary", headers: [...headers, ...transport], body: data, attrs, data: data || undefined };
}

function loadYamlRequests(): Request[] {
  return FILES.flatMap((file) => {
    // The failsafe schema keeps every scalar a string: specversion 1.0 stays "1.0", times stay text.
    const docs = parseAllDocuments(readFileSync(fileURLToPath(new URL(file, DIR)), "utf8"), { schema: "failsafe" });
    if (!Array.isArray(docs)) throw new Error(`${file}: not a YAML stream`);
    return docs.map((d, i) => toRequest(d.toJS() as Record<string, unknown>, `${file}#${i}`));
  });
}

/** The Gherkin scenario outlines of http-protocol-binding.feature, one request per example row. */
function loadFeatureRequests(): Request[] {
  const text = readFileSync(fileURLToPath(new URL("features/http-protocol-binding.feature", DIR)), "utf8");
  return text.split(/^\s*Scenario Outline:/m).slice(1).flatMap((block, b) => {
    const docs = [...block.matchAll(/^( *)"""\n([\s\S]*?)\n *"""/gm)].map(([, indent, body]) =>
      body!.split("\n").map((l) => l.slice(indent!.length)).join("\n"),
    );
    const rows = (from: string, to: string) =>
      block.slice(block.indexOf(from), to ? block.indexOf(to) : undefined).split("\n").filter((l) => l.trim().startsWith("|")).map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
    const table = rows("Then the attributes are:", "And the data").slice(1);
    const examples = rows("Examples:", "").slice(1);
    return examples.map(([contentType]) => {
      const fill = (s: string) => s.replaceAll("<contentType>", contentType!);
      const [head, ...bodyLines] = fill(docs[0]!).split("\n\n");
      const headers = head!.split("\n").slice(1).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()] as [string, string]).filter(([k]) => k.toLowerCase() !== "content-length");
      const body = bodyLines.join("\n\n");
      const attrs = Object.fromEntries(table.map(([k, v]) => [k!, fill(v!)]));
      const mode = headers.some(([k, v]) => k.toLowerCase() === "content-type" && v.startsWith("application/cloudevents")) ? "structured" : "binary";
      return { name: `feature outline ${b} (${contentType})`, mode, headers, body, attrs, data: JSON.stringify(JSON.parse(docs[1]!)) } as Request;
    });
  });
}

const yamlRequests = loadYamlRequests();
const featureRequests = loadFeatureRequests();
const bytes = (e: CloudEvent) => (e.data ? dec.decode(e.data) : undefined);
const reparse = (m: { headers: Record<string, string>; body: Uint8Array | null }) => parseMessage(new Headers(m.headers), m.body ?? new Uint8Array()).events[0]!;

describe("CloudEvents conformance vectors (HTTP binding)", () => {
  it("loads every document", () => {
    expect(yamlRequests.map((r) => r.name)).toHaveLength(15);
    expect(yamlRequests.filter((r) => r.mode === "structured")).toHaveLength(1);
    expect(featureRequests).toHaveLength(4);
    expect(yamlRequests[0]!.attrs.specversion).toBe("1.0");
  });

  it.each(yamlRequests.map((r) => [r.name, r] as const))("%s parses to its attributes and data", (_n, r) => {
    const { mode, events } = parseMessage(new Headers(r.headers), enc.encode(r.body));
    expect(mode).toBe(r.mode);
    expect(events).toHaveLength(1);
    const e = events[0]!;
    expect(e.attrs).toEqual(r.attrs);
    // Byte for byte: the Data as sent in binary mode (trailing newline included), the JSON text as
    // it appears in the structured body.
    expect(bytes(e)).toBe(r.data);
    if (r.mode === "structured") {
      expect(JSON.parse(bytes(e)!)).toEqual(JSON.parse(r.data!));
      expect(e.impliedJson).toBe(r.attrs.datacontenttype === undefined);
    }
  });

  it.each(featureRequests.map((r) => [r.name, r] as const))("%s parses to its attributes and JSON data", (_n, r) => {
    const { mode, events } = parseMessage(new Headers(r.headers), enc.encode(r.body));
    expect(mode).toBe(r.mode);
    expect(events[0]!.attrs).toEqual(r.attrs);
    expect(JSON.parse(bytes(events[0]!)!)).toEqual(JSON.parse(r.data!));
    if (r.mode === "binary") expect(bytes(events[0]!)).toBe(r.body);
  });

  it.each([...yamlRequests, ...featureRequests].map((r) => [r.name, r] as const))("%s survives re-encoding in binary and structured mode", (_n, r) => {
    const e = parseMessage(new Headers(r.headers), enc.encode(r.body)).events[0]!;
    const b = reparse(encodeBinary(e));
    expect(b.attrs).toEqual(e.impliedJson ? { ...e.attrs, datacontenttype: "application/json" } : e.attrs);
    expect(bytes(b)).toBe(bytes(e));
    const s = reparse(encodeStructured(e));
    // 0.3 JSON carries opaque bytes only as base64 `data`, announced by datacontentencoding.
    const opaque03 = e.attrs.specversion === "0.3" && e.data && !/json|text|xml/.test(dataMediaType(e));
    expect(s.attrs).toEqual(opaque03 ? { ...e.attrs, datacontentencoding: "base64" } : e.attrs);
    expect(s.impliedJson).toBe(e.impliedJson);
    // JSON data travels as the JSON value itself, so only whitespace around it can drop; text is exact.
    if (isJsonMediaType(dataMediaType(e))) expect(bytes(s)).toBe(bytes(e)?.trim());
    else expect(bytes(s)).toBe(bytes(e));
  });

  it("answers 400 for the 0.3 vectors sent as an unknown specversion", () => {
    for (const r of yamlRequests.filter((x) => x.attrs.specversion === "0.3" && x.mode === "binary")) {
      const headers = r.headers.map(([k, v]) => [k, k === "ce-specversion" ? "0.2" : v] as [string, string]);
      expect(() => parseMessage(new Headers(headers), enc.encode(r.body))).toThrow(/unsupported specversion "0\.2"/);
    }
  });
});
