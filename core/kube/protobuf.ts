/**
 * Just enough of Kubernetes' protobuf encoding to read the name of an object that kubectl sends as
 * protobuf (built-in kinds such as Namespace: `kubectl create namespace`). The body is the magic
 * `k8s\0` and a runtime.Unknown whose field 2 holds the object; every object's field 1 is its
 * ObjectMeta, whose field 1 is the name and field 2 the generateName.
 */
const MAGIC = [0x6b, 0x38, 0x73, 0x00];

export function isKubeProtobuf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && MAGIC.every((b, i) => bytes[i] === b);
}

/** Length-delimited fields of one message, by field number (varints and fixed fields skipped). */
function fields(buf: Uint8Array): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (i >= buf.length) throw new Error("truncated varint");
      const b = buf[i++]!;
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
      shift += 7;
      if (shift > 49) throw new Error("varint too long");
    }
  };
  while (i < buf.length) {
    const tag = varint();
    const wire = tag & 7;
    const field = Math.floor(tag / 8);
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const len = varint();
      if (i + len > buf.length) throw new Error("truncated field");
      if (!out.has(field)) out.set(field, buf.subarray(i, i + len));
      i += len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

/** `metadata.name` and `metadata.generateName` of a protobuf-encoded object. */
export function protobufObjectMeta(bytes: Uint8Array): { name?: string; generateName?: string } {
  const unknown = fields(bytes.subarray(4));
  const raw = unknown.get(2);
  if (!raw) throw new Error("no object in the protobuf envelope");
  const meta = fields(raw).get(1);
  if (!meta) return {};
  const f = fields(meta);
  const text = (n: number) => (f.has(n) ? new TextDecoder().decode(f.get(n)) : undefined);
  const name = text(1);
  const generateName = text(2);
  return { ...(name !== undefined ? { name } : {}), ...(generateName !== undefined ? { generateName } : {}) };
}
