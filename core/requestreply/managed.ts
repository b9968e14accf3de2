import { ApiError } from "../errors.js";
import { childName } from "../identity/names.js";
import type { Manifest, OwnerReference, Resource } from "../resources/types.js";

/** Knative's labels on the Triggers of a RequestReply (pkg/reconciler/requestreply). */
export const RR_NAME_LABEL = "eventing.knative.dev/RequestReply.name";
export const RR_NAMESPACE_LABEL = "eventing.knative.dev/RequestReply.namespace";
export const RR_REPLICAS_LABEL = "eventing.knative.dev/RequestReply.dataPlaneReplicas";
/** The name of Knative's key Secret, which the Triggers' filters name (Eddy's keys are its signing keys). */
export const RR_SECRET_NAME = "request-reply-keys";

const RR_API = "eventing.knative.dev/v1alpha1";

/** The reply path of shard `i` of a RequestReply: the address its reply Trigger delivers to. */
export function replyPath(ns: string, name: string, i: number): string {
  return `/requestreplies/${ns}/${name}/replies/${i}`;
}

/** Knative's name for the reply Trigger of replica `i` out of `n` (kmeta.ChildName(name, "i-n")). */
export function replyTriggerName(name: string, i: number, n: number): string {
  return childName(name, `${i}-${n}`);
}

/** The controller reference Eddy puts on what a RequestReply owns. */
export function ownerOf(rr: Resource): OwnerReference {
  return { apiVersion: rr.apiVersion, kind: rr.kind, name: rr.metadata.name, uid: rr.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** The RequestReply that manages `r`, when one does. */
export function managingRequestReply(r: Pick<Resource, "metadata">): OwnerReference | undefined {
  return r.metadata.ownerReferences?.find((o) => o.controller === true && o.kind === "RequestReply" && o.apiVersion === RR_API);
}

/**
 * Refuses a client's change to (or deletion of) an object a RequestReply manages: it is that
 * RequestReply's reply path, kept by Eddy as the RequestReply says (403, naming what to change).
 */
export function refuseManaged(stored: Pick<Resource, "metadata">, plural: string): void {
  const owner = managingRequestReply(stored);
  if (!owner) return;
  throw new ApiError(403, `${plural} "${stored.metadata.name}" is managed by RequestReply "${owner.name}" (its reply path) and cannot be changed or deleted: change or delete the RequestReply instead`, [], { name: stored.metadata.name, kind: plural });
}

/**
 * The Triggers a RequestReply needs, as Knative's reconciler makes them: one per shard, on the
 * RequestReply's Broker, passing only events whose reply attribute holds a correlation id this
 * deployment signed for this RequestReply and shard (`KN_VERIFY_CORRELATION_ID`), delivering them
 * to that shard. Knative's subscriber is a pod URI; Eddy's is the shard's reply address, named by
 * a ref to the RequestReply so it stays an RPC inside the deployment.
 *
 * @example
 * replyTriggers(rr, 1)[0].metadata.name; // "example0-1"
 */
export function replyTriggers(rr: Resource, shards: number): (Manifest & { metadata: { name: string } })[] {
  const ns = rr.metadata.namespace;
  const name = rr.metadata.name;
  const spec = rr.spec ?? {};
  const broker = String((spec.brokerRef as { name?: unknown } | undefined)?.name ?? "");
  const attr = String(spec.replyAttribute ?? "replyid");
  return Array.from({ length: shards }, (_, i) => ({
    apiVersion: "eventing.knative.dev/v1",
    kind: "Trigger",
    metadata: {
      name: replyTriggerName(name, i, shards),
      namespace: ns,
      labels: { [RR_NAME_LABEL]: name, [RR_NAMESPACE_LABEL]: ns, [RR_REPLICAS_LABEL]: String(shards) },
    },
    spec: {
      broker,
      filters: [{ cesql: `KN_VERIFY_CORRELATION_ID(${attr}, "${name}", "${ns}", "${RR_SECRET_NAME}", ${i}, ${shards})` }],
      subscriber: { ref: { apiVersion: RR_API, kind: "RequestReply", name, namespace: ns }, uri: replyPath(ns, name, i) },
    },
  }));
}
