import type { Resource } from "../resources/types.js";
import type { CrdInfo } from "./crds.js";
import { evaluate } from "./jsonpath.js";

export type IncludeObject = "None" | "Metadata" | "Object";

/** The `meta.k8s.io` version of Table a client accepts, or undefined when it wants plain JSON. */
export function tableVersion(accept: string | null | undefined): "v1" | "v1beta1" | undefined {
  for (const range of (accept ?? "").split(",")) {
    const params = new Map(range.split(";").slice(1).map((p) => {
      const [k, v] = p.split("=").map((s) => s.trim());
      return [k ?? "", v ?? ""] as const;
    }));
    if (params.get("as") === "Table" && params.get("g") === "meta.k8s.io") {
      const v = params.get("v");
      if (v === "v1" || v === "v1beta1") return v;
    }
  }
  return undefined;
}

/** The Content-Type of a Table answer. */
export function tableContentType(v: "v1" | "v1beta1"): string {
  return `application/json;as=Table;v=${v};g=meta.k8s.io`;
}

export function parseIncludeObject(raw: string | undefined | null): IncludeObject {
  return raw === "None" || raw === "Object" ? raw : "Metadata";
}

/**
 * Kubernetes' HumanDuration, which the API server uses for `date` printer columns ("45s", "3m5s",
 * "2d4h").
 */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

function cell(type: string, values: unknown[], now: number): unknown {
  if (values.length === 0) return null;
  if (type === "date") {
    const t = Date.parse(String(values[0]));
    return Number.isNaN(t) ? null : humanDuration(now - t);
  }
  if (type === "integer" || type === "number" || type === "boolean") return values[0];
  return values.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(" ");
}

const NAME_COLUMN = {
  name: "Name", type: "string", format: "name", priority: 0,
  description: "Name must be unique within a namespace. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
};

/**
 * A `meta.k8s.io` Table of objects with the printer columns of their CRD, the answer to
 * `Accept: application/json;as=Table;g=meta.k8s.io;v=v1` (what `kubectl get` asks for).
 *
 * @example
 * table([broker], crdOf(BrokerKind), Date.now(), { includeObject: "Metadata", resourceVersion: "12" });
 */
export function table(
  objects: Resource[], crd: CrdInfo, now: number,
  opts: { includeObject?: IncludeObject; resourceVersion?: string; version?: "v1" | "v1beta1"; headers?: boolean } = {},
): Record<string, unknown> {
  const include = opts.includeObject ?? "Metadata";
  return {
    kind: "Table",
    apiVersion: `meta.k8s.io/${opts.version ?? "v1"}`,
    metadata: opts.resourceVersion !== undefined ? { resourceVersion: opts.resourceVersion } : {},
    ...(opts.headers === false ? {} : {
      columnDefinitions: [NAME_COLUMN, ...crd.columns.map((c) => ({
        name: c.name, type: c.type, format: c.format ?? "", description: c.description ?? "", priority: c.priority ?? 0,
      }))],
    }),
    rows: objects.map((o) => ({
      cells: [o.metadata.name, ...crd.columns.map((c) => cell(c.type, safeEvaluate(c.jsonPath, o), now))],
      ...(include === "None" ? {} : {
        object: include === "Object" ? o : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
      }),
    })),
  };
}

function safeEvaluate(path: string, o: unknown): unknown[] {
  try {
    return evaluate(path, o);
  } catch {
    return []; // a column Eddy cannot evaluate shows as empty rather than failing the whole list
  }
}
