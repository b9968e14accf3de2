import { parseAllDocuments } from "yaml";
import { ApiError } from "../../core/errors.js";
import { readBody } from "../body.js";

const MAX_MANIFEST_BYTES = 1024 * 1024;
const YAML_TYPES = new Set(["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"]);

/**
 * Reads one resource manifest from a request: JSON, or YAML with `Content-Type: application/yaml`.
 * Without a clear type (curl's default form encoding) JSON is tried first, then YAML.
 *
 * @example
 * const body = await readManifest(c.req.raw); // { apiVersion: "eventing.knative.dev/v1", kind: "Broker", ... }
 */
export async function readManifest(req: Request): Promise<unknown> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const text = new TextDecoder().decode(await readBody(req, MAX_MANIFEST_BYTES));
  if (!text.trim()) throw new ApiError(400, "the request body is empty: send the resource as JSON or YAML");
  if (YAML_TYPES.has(type)) return parseYaml(text);
  if (type === "application/json" || type.endsWith("+json")) return parseJson(text);
  try {
    return JSON.parse(text);
  } catch {
    return parseYaml(text);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, `the body is not valid JSON (${(e as Error).message}); for YAML send Content-Type: application/yaml`);
  }
}

function parseYaml(text: string): unknown {
  const docs = parseAllDocuments(text).filter((d) => d.contents !== null);
  if (docs.length === 0) throw new ApiError(400, "the YAML body holds no document");
  if (docs.length > 1) throw new ApiError(400, `the YAML body holds ${docs.length} documents; send one resource per request`);
  const doc = docs[0]!;
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const where = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "";
    throw new ApiError(400, `the body is not valid YAML${where}: ${e.message.split("\n")[0]}`);
  }
  return doc.toJS();
}
