import { fromBase64, toBase64 } from "../../base64.js";
import type { FieldError } from "../../errors.js";
import type { KindDef } from "../kind.js";
import type { Manifest } from "../types.js";
import { isObject } from "../validate.js";

/** The type Eddy serves: arbitrary keys and values, as Kubernetes' default. */
export const OPAQUE = "Opaque";
/** Kubernetes' limit on a Secret's data (all values together). */
export const MAX_SECRET_BYTES = 1024 * 1024;
const KEY_RE = /^[-._a-zA-Z0-9]+$/;
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes' DNS-1123 subdomain rule for Secret names. */
export function validateSubdomain(name: unknown, field: string): FieldError[] {
  if (typeof name !== "string" || name === "") return [{ field, message: "is required" }];
  if (name.length > 253 || !SUBDOMAIN_RE.test(name)) {
    return [{ field, message: `"${name}" is not a valid name: use at most 253 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit` }];
  }
  return [];
}

const utf8 = new TextEncoder();

/**
 * Kubernetes' `v1` Secret, type Opaque: `data` maps keys to base64 values, and `stringData` (write
 * only) to plain strings that are merged into `data` on write, as the API server does. Values are
 * sealed at rest by the namespace's object (durable-objects/secret-box.ts), so what is stored
 * holds no plain value; the API opens them only for callers RBAC allows to `get` secrets.
 * WebhookSources and `eddy.dev/signing-secret` name a value as `secretKeyRef` (name, key).
 */
export const SecretKind: KindDef = {
  group: "",
  version: "v1",
  kind: "Secret",
  plural: "secrets",
  order: 0,
  fields: ["type", "data", "immutable"],
  validName: validateSubdomain,

  defaults(obj) {
    if (obj.type === undefined || obj.type === "") obj.type = OPAQUE; // kubectl sends "" for the default
    const data = isObject(obj.data) ? obj.data : {};
    if (isObject(obj.stringData)) {
      for (const [k, v] of Object.entries(obj.stringData)) if (typeof v === "string") data[k] = toBase64(utf8.encode(v));
    }
    if (obj.data !== undefined || obj.stringData !== undefined) obj.data = data;
  },

  validate(obj, old) {
    const errs: FieldError[] = [];
    if (obj.type !== OPAQUE) errs.push({ field: "type", message: `must be ${OPAQUE}: Eddy serves Opaque Secrets (any keys), got ${JSON.stringify(obj.type)}` });
    if (obj.stringData !== undefined && (!isObject(obj.stringData) || Object.values(obj.stringData).some((v) => typeof v !== "string"))) {
      errs.push({ field: "stringData", message: "must map keys to strings" });
    }
    errs.push(...validateData(obj));
    if (obj.immutable !== undefined && typeof obj.immutable !== "boolean") errs.push({ field: "immutable", message: "must be true or false" });
    // Values are compared where they can be opened (durable-objects/secret-box.ts); keys here.
    if (old?.immutable === true) {
      if (obj.immutable !== true) errs.push({ field: "immutable", message: "cannot be unset once true: delete the Secret and create it again" });
      if (JSON.stringify(dataKeys(obj)) !== JSON.stringify(dataKeys(old))) errs.push({ field: "data", message: IMMUTABLE });
    }
    return errs;
  },
};

export const IMMUTABLE = "is immutable (immutable: true): delete the Secret and create it again to change it";

function dataKeys(m: Record<string, unknown>): string[] {
  return isObject(m.data) ? Object.keys(m.data).sort() : [];
}

function validateData(obj: Manifest): FieldError[] {
  if (obj.data === undefined) return [];
  if (!isObject(obj.data)) return [{ field: "data", message: "must map keys to base64 values" }];
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(obj.data)) {
    if (k.length > 253 || !KEY_RE.test(k)) errs.push({ field: `data[${k}]`, message: "a key must consist of letters, digits, '-', '_' or '.', at most 253 characters" });
    if (typeof v !== "string") {
      errs.push({ field: `data[${k}]`, message: "must be a base64 string (use stringData for plain text)" });
      continue;
    }
    try {
      total += fromBase64(v).length;
    } catch {
      errs.push({ field: `data[${k}]`, message: "is not valid base64 (use stringData for plain text)" });
    }
  }
  if (total > MAX_SECRET_BYTES) errs.push({ field: "data", message: `holds ${total} bytes; a Secret holds at most ${MAX_SECRET_BYTES}` });
  return errs;
}
