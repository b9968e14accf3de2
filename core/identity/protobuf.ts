import { bytesOf, envelope, isKubeProtobuf, message, numOf, strOf, strsOf } from "../kube/protobuf.js";

/**
 * What `kubectl create serviceaccount` and `kubectl create token` send as protobuf
 * (k8s.io/api/authentication/v1/generated.proto: TokenRequest{metadata=1, spec=2},
 * TokenRequestSpec{audiences=1 repeated, boundObjectRef=3, expirationSeconds=4}), read with the
 * reader of core/kube/protobuf.ts.
 */
export { isKubeProtobuf };

/** A ServiceAccount (or any object) sent as protobuf, as the JSON manifest of its name. */
export function protobufManifest(bytes: Uint8Array): { metadata: { name?: string; generateName?: string } } {
  const meta = bytesOf(envelope(bytes).object, 1);
  const m = meta ? message(meta) : new Map();
  const name = strOf(m, 1);
  const generateName = strOf(m, 2);
  return { metadata: { ...(name ? { name } : {}), ...(generateName ? { generateName } : {}) } };
}

/** A TokenRequest sent as protobuf, as its JSON form (boundObjectRef kept as a marker when present). */
export function protobufTokenRequest(bytes: Uint8Array): { spec: { audiences?: string[]; expirationSeconds?: number; boundObjectRef?: object } } {
  const spec = bytesOf(envelope(bytes).object, 2);
  if (!spec) return { spec: {} };
  const s = message(spec);
  const audiences = strsOf(s, 1);
  const seconds = numOf(s, 4);
  return {
    spec: {
      ...(audiences.length ? { audiences } : {}),
      ...(seconds !== undefined ? { expirationSeconds: seconds } : {}),
      ...(bytesOf(s, 3) ? { boundObjectRef: {} } : {}),
    },
  };
}
