/**
 * What `kubectl create serviceaccount` and `kubectl create token` send: built-in kinds go as
 * Kubernetes protobuf (the magic `k8s\0`, then a runtime.Unknown whose field 2 is the object). Just
 * enough of the encoding to read a ServiceAccount's name and a TokenRequest's spec
 * (k8s.io/api/authentication/v1/generated.proto: TokenRequest{metadata=1, spec=2},
 * TokenRequestSpec{audiences=1 repeated, boundObjectRef=3, expirationSeconds=4}).
 */
const MAGIC = [0x6b, 0x38, 0x73, 0x00];

export function isKubeProtobuf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && MAGIC.every((b, i) => bytes[i] === b);
}

type Field = Uint8Array | number;

/** Every field of one message by number, repeated ones in order; fixed-width fields are skipped. */
function message(buf: Uint8Array): Map<number, Field[]> {
  const out = new Map<number, Field[]>();
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

const bytesOf = (m: Map<number, Field[]>, n: number): Uint8Array | undefined => m.get(n)?.find((f): f is Uint8Array => f instanceof Uint8Array);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function object(bytes: Uint8Array): Map<number, Field[]> {
  if (!isKubeProtobuf(bytes)) throw new Error("the body does not start with Kubernetes' k8s\\0 envelope");
  const raw = bytesOf(message(bytes.subarray(4)), 2);
  if (!raw) throw new Error("no object in the protobuf envelope");
  return message(raw);
}

/** A ServiceAccount (or any object) sent as protobuf, as the JSON manifest of its name. */
export function protobufManifest(bytes: Uint8Array): { metadata: { name?: string; generateName?: string } } {
  const meta = bytesOf(object(bytes), 1);
  const m = meta ? message(meta) : new Map<number, Field[]>();
  const name = bytesOf(m, 1);
  const generateName = bytesOf(m, 2);
  return { metadata: { ...(name ? { name: text(name) } : {}), ...(generateName ? { generateName: text(generateName) } : {}) } };
}

/** A TokenRequest sent as protobuf, as its JSON form (boundObjectRef kept as a marker when present). */
export function protobufTokenRequest(bytes: Uint8Array): { spec: { audiences?: string[]; expirationSeconds?: number; boundObjectRef?: object } } {
  const spec = bytesOf(object(bytes), 2);
  if (!spec) return { spec: {} };
  const s = message(spec);
  const audiences = (s.get(1) ?? []).filter((f): f is Uint8Array => f instanceof Uint8Array).map(text);
  const seconds = s.get(4)?.find((f): f is number => typeof f === "number");
  return {
    spec: {
      ...(audiences.length ? { audiences } : {}),
      ...(seconds !== undefined ? { expirationSeconds: seconds } : {}),
      ...(bytesOf(s, 3) ? { boundObjectRef: {} } : {}),
    },
  };
}
