/**
 * Just enough of Kubernetes' protobuf encoding to read what kubectl sends for built-in kinds
 * (`kubectl create namespace`, `create serviceaccount`, `create token`, `create secret`, `create
 * role`, `create rolebinding`, `auth can-i`): the magic `k8s\0`, then a runtime.Unknown whose field
 * 1 is the TypeMeta (apiVersion 1, kind 2) and field 2 the object. Field numbers are those of
 * k8s.io/api's generated.proto files; the objects come out as their JSON form.
 */
const MAGIC = [0x6b, 0x38, 0x73, 0x00];

export function isKubeProtobuf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && MAGIC.every((b, i) => bytes[i] === b);
}

type Field = Uint8Array | number;
export type Message = Map<number, Field[]>;

/** Every field of one message by number, repeated ones in order; fixed-width fields are skipped. */
export function message(buf: Uint8Array): Message {
  const out: Message = new Map();
  let i = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      if (i >= buf.length) throw new Error("truncated varint");
      if (shift > 49) throw new Error("varint too long");
      const b = buf[i++]!;
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
    }
  };
  const add = (n: number, v: Field) => (out.get(n) ?? out.set(n, []).get(n)!).push(v);
  while (i < buf.length) {
    const tag = varint();
    const wire = tag & 7;
    const n = Math.floor(tag / 8);
    if (wire === 0) add(n, varint());
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const len = varint();
      if (i + len > buf.length) throw new Error("truncated field");
      add(n, buf.subarray(i, i + len));
      i += len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
export const bytesOf = (m: Message, n: number): Uint8Array | undefined => m.get(n)?.find((f): f is Uint8Array => f instanceof Uint8Array);
export const strOf = (m: Message, n: number): string | undefined => {
  const b = bytesOf(m, n);
  return b ? text(b) : undefined;
};
export const strsOf = (m: Message, n: number): string[] => (m.get(n) ?? []).filter((f): f is Uint8Array => f instanceof Uint8Array).map(text);
export const numOf = (m: Message, n: number): number | undefined => m.get(n)?.find((f): f is number => typeof f === "number");
const subOf = (m: Message, n: number): Message | undefined => {
  const b = bytesOf(m, n);
  return b ? message(b) : undefined;
};
const subsOf = (m: Message, n: number): Message[] => (m.get(n) ?? []).filter((f): f is Uint8Array => f instanceof Uint8Array).map(message);
/** A `map<string, ...>` field: repeated entries of key 1 and value 2. */
function mapOf<T>(m: Message, n: number, value: (e: Message) => T | undefined): Record<string, T> | undefined {
  const entries = subsOf(m, n);
  if (!entries.length) return undefined;
  const out: Record<string, T> = {};
  for (const e of entries) {
    const v = value(e);
    if (v !== undefined) out[strOf(e, 1) ?? ""] = v;
  }
  return out;
}

/** The TypeMeta and the object's message, from the envelope. */
export function envelope(bytes: Uint8Array): { apiVersion: string; kind: string; object: Message } {
  if (!isKubeProtobuf(bytes)) throw new Error("the body does not start with Kubernetes' k8s\\0 envelope");
  const unknown = message(bytes.subarray(4));
  const type = subOf(unknown, 1) ?? new Map();
  const raw = bytesOf(unknown, 2);
  if (!raw) throw new Error("no object in the protobuf envelope");
  return { apiVersion: strOf(type, 1) ?? "", kind: strOf(type, 2) ?? "", object: message(raw) };
}

/** ObjectMeta (name 1, generateName 2, namespace 3, labels 11, annotations 12). */
function objectMeta(m: Message | undefined): Record<string, unknown> {
  if (!m) return {};
  const out: Record<string, unknown> = {};
  for (const [f, n] of [["name", 1], ["generateName", 2], ["namespace", 3]] as const) {
    const v = strOf(m, n);
    if (v) out[f] = v;
  }
  const labels = mapOf(m, 11, (e) => strOf(e, 2) ?? "");
  const annotations = mapOf(m, 12, (e) => strOf(e, 2) ?? "");
  if (labels) out.labels = labels;
  if (annotations) out.annotations = annotations;
  return out;
}

/** `metadata.name` and `metadata.generateName` of a protobuf-encoded object. */
export function protobufObjectMeta(bytes: Uint8Array): { name?: string; generateName?: string } {
  const meta = objectMeta(subOf(envelope(bytes).object, 1));
  return { ...(meta.name ? { name: meta.name as string } : {}), ...(meta.generateName ? { generateName: meta.generateName as string } : {}) };
}

const nonEmpty = <T extends Record<string, unknown>>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))) as T;

const rule = (r: Message) => nonEmpty({ verbs: strsOf(r, 1), apiGroups: strsOf(r, 2), resources: strsOf(r, 3), resourceNames: strsOf(r, 4), nonResourceURLs: strsOf(r, 5) });
const subject = (s: Message) => nonEmpty({ kind: strOf(s, 1), apiGroup: strOf(s, 2) ?? "", name: strOf(s, 3), namespace: strOf(s, 4) || undefined });
const roleRef = (r: Message | undefined) => (r ? { apiGroup: strOf(r, 1) ?? "", kind: strOf(r, 2), name: strOf(r, 3) } : undefined);

/** The body kubectl sent as protobuf, as the JSON manifest of its kind; an unknown kind throws. */
export function protobufObject(bytes: Uint8Array): Record<string, unknown> {
  const { apiVersion, kind, object: o } = envelope(bytes);
  const head = { apiVersion, kind, metadata: objectMeta(subOf(o, 1)) };
  switch (kind) {
    case "Namespace":
    case "ServiceAccount":
      return head;
    case "Role":
    case "ClusterRole":
      return { ...head, rules: subsOf(o, 2).map(rule) };
    case "RoleBinding":
    case "ClusterRoleBinding":
      return nonEmpty({ ...head, subjects: subsOf(o, 2).map(subject), roleRef: roleRef(subOf(o, 3)) });
    case "Secret": {
      const b64 = (e: Message) => {
        const v = bytesOf(e, 2) ?? new Uint8Array(0);
        let bin = "";
        for (const x of v) bin += String.fromCharCode(x);
        return btoa(bin);
      };
      const immutable = numOf(o, 5);
      return nonEmpty({ ...head, data: mapOf(o, 2, b64), type: strOf(o, 3), stringData: mapOf(o, 4, (e) => strOf(e, 2) ?? ""), immutable: immutable === undefined ? undefined : immutable !== 0 });
    }
    case "SelfSubjectAccessReview": {
      const spec = subOf(o, 2) ?? new Map();
      const ra = subOf(spec, 1);
      const nra = subOf(spec, 2);
      return {
        ...head,
        spec: nonEmpty({
          resourceAttributes: ra ? { namespace: strOf(ra, 1) ?? "", verb: strOf(ra, 2) ?? "", group: strOf(ra, 3) ?? "", version: strOf(ra, 4) ?? "", resource: strOf(ra, 5) ?? "", subresource: strOf(ra, 6) ?? "", name: strOf(ra, 7) ?? "" } : undefined,
          nonResourceAttributes: nra ? { path: strOf(nra, 1) ?? "", verb: strOf(nra, 2) ?? "" } : undefined,
        }),
      };
    }
    case "SelfSubjectRulesReview":
      return { ...head, spec: { namespace: strOf(subOf(o, 2) ?? new Map(), 1) ?? "" } };
    case "SelfSubjectReview":
      return head;
    default:
      throw new Error(`Eddy does not read ${kind || "this kind"} as protobuf; send it as JSON`);
  }
}
