import knative from "./knative/crds.json";
import { REPLAY_CRD, WEBHOOK_SOURCE_CRD } from "./eddy-crds.js";
import { BUILTIN_CRDS } from "./builtin-crds.js";

/** An OpenAPI v3 schema node, as CRDs write them. */
export interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  required?: string[];
  enum?: unknown[];
  format?: string;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  [extension: string]: unknown;
}

/** A CRD `additionalPrinterColumns` entry: a column of `kubectl get`. */
export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

/** What Kubernetes would know of a kind from its CustomResourceDefinition. */
export interface CrdInfo {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames?: string[];
  categories?: string[];
  schema: Schema;
  columns: PrinterColumn[];
}

/**
 * Knative Eventing's published CRDs (core/kube/knative, Apache-2.0, vendored by
 * scripts/vendor-knative-crds.mjs) and Eddy's own WebhookSource.
 */
export const CRDS: readonly CrdInfo[] = [...(knative.crds as unknown as CrdInfo[]).map(withEddyFields), WEBHOOK_SOURCE_CRD, REPLAY_CRD];

/**
 * Fields Eddy accepts beyond Knative's schema, added here so that strict field validation and
 * `kubectl explain` know them; the vendored file stays as Knative published it.
 */
function withEddyFields(crd: CrdInfo): CrdInfo {
  if (crd.kind !== "PingSource") return crd;
  const spec = crd.schema.properties?.spec ?? {};
  const delivery: Schema = {
    type: "object",
    description: "Eddy: the retry and dead-letter policy of the ticks (Knative's PingSource has none), as a Broker's spec.delivery.",
    "x-kubernetes-preserve-unknown-fields": true,
  };
  return { ...crd, schema: { ...crd.schema, properties: { ...crd.schema.properties, spec: { ...spec, properties: { ...spec.properties, delivery } } } } };
}

/** Built-in kinds Eddy serves under `/api/v1`, as Kubernetes describes them (no categories: not in `all`). */
const CORE: readonly CrdInfo[] = [{
  group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", singular: "serviceaccount", shortNames: ["sa"],
  schema: { type: "object", description: "ServiceAccount is an identity that producers send events as; POST .../serviceaccounts/{name}/token issues its tokens.", "x-kubernetes-preserve-unknown-fields": true },
  columns: [{ name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }],
}, ...BUILTIN_CRDS];

const byKind = new Map([...CRDS, ...CORE].map((c) => [`${c.group}/${c.kind}`, c]));

const AGE: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

/**
 * The CRD of a kind Eddy serves. A kind Knative has not published (yet) gets what Kubernetes gives
 * a CRD without a schema: any fields, and an Age column.
 */
export function crdOf(k: { group: string; version: string; kind: string; plural: string }): CrdInfo {
  const found = byKind.get(`${k.group}/${k.kind}`);
  if (found) return found.version === k.version ? found : { ...found, version: k.version };
  return {
    group: k.group, version: k.version, kind: k.kind, plural: k.plural, singular: k.kind.toLowerCase(),
    categories: ["all", "knative"],
    schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
    columns: [AGE],
  };
}
