/** Applying a pasted manifest: YAML (one or more documents) or JSON, each PUT to its own URL. */
import { parseAllDocuments } from "yaml";
import { byKind } from "./kinds.js";

export interface PlannedPut {
  label: string;
  path: string;
  body: Record<string, unknown>;
}

export class ManifestInvalid extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

function pluralOf(kind: string): string {
  const known = byKind(kind);
  if (known) return known.plural;
  // Kubernetes' own rule for kinds the console has no table entry for (EventPolicy, Replay...).
  const k = kind.toLowerCase();
  if (/[^aeiou]y$/.test(k)) return `${k.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(k)) return `${k}es`;
  return `${k}s`;
}

function documents(text: string): unknown[] {
  const t = text.trim();
  if (!t) throw new ManifestInvalid("the manifest is empty");
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      const v = JSON.parse(t);
      return Array.isArray(v) ? v : [v];
    } catch (e) {
      throw new ManifestInvalid(`not valid JSON: ${(e as Error).message}`);
    }
  }
  const docs = parseAllDocuments(t);
  const list = Array.isArray(docs) ? docs : [docs];
  const out: unknown[] = [];
  for (const d of list) {
    const err = d.errors[0];
    if (err) throw new ManifestInvalid(`not valid YAML: ${err.message.split("\n")[0]}`);
    // Bounded alias expansion: a pasted "billion laughs" must not hang the tab.
    const v = d.toJS({ maxAliasCount: 100 });
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}

export function planApply(text: string, defaultNs: string): PlannedPut[] {
  const plans: PlannedPut[] = [];
  const add = (doc: unknown, where: string) => {
    if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new ManifestInvalid(`${where}is not an object`);
    const o = doc as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown }; items?: unknown };
    if (o.kind === "List" && Array.isArray(o.items)) {
      o.items.forEach((item, i) => add(item, `items[${i}] `));
      return;
    }
    if (typeof o.apiVersion !== "string" || !o.apiVersion.includes("/")) throw new ManifestInvalid(`${where}needs apiVersion as group/version`, "apiVersion");
    if (typeof o.kind !== "string" || !o.kind) throw new ManifestInvalid(`${where}needs a kind`, "kind");
    const name = o.metadata?.name;
    if (typeof name !== "string" || !name) throw new ManifestInvalid(`${where}needs metadata.name`, "metadata.name");
    const ns = typeof o.metadata?.namespace === "string" && o.metadata.namespace ? o.metadata.namespace : defaultNs;
    const e = encodeURIComponent;
    plans.push({
      label: `${o.kind}/${name}`,
      path: `/apis/${o.apiVersion}/namespaces/${e(ns)}/${pluralOf(o.kind)}/${e(name)}`,
      body: { ...(o as Record<string, unknown>), metadata: { ...o.metadata, namespace: ns } },
    });
  };
  for (const d of documents(text)) add(d, "");
  if (!plans.length) throw new ManifestInvalid("the manifest has no object");
  return plans;
}
