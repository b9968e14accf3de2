/** Kubernetes-style object metadata, as Knative manifests carry it. */
export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  generation: number;
  resourceVersion: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Server-side apply's record of which manager set which fields (core/kube/managed.ts). */
  managedFields?: unknown[];
  /** Set by Eddy only, on objects it manages for another (a RequestReply's reply Triggers). */
  ownerReferences?: OwnerReference[];
}

/** Kubernetes' OwnerReference: the object that owns (and, with `controller`, manages) this one. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** A reference to another resource of this system (`ref` in a Destination). */
export interface KReference {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** Knative's Destination: an absolute `uri`, a `ref`, or a `ref` plus a `uri` relative to it. */
export interface Destination {
  ref?: KReference;
  uri?: string;
  /** OIDC audience of the target, for a `uri` Eddy cannot ask for one; deliveries carry a token for it. */
  audience?: string;
}

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

export interface Status {
  observedGeneration?: number;
  conditions?: Condition[];
  [field: string]: unknown;
}

/** Any stored resource. `spec` and `status` stay loosely typed here; each kind reads its own. */
export interface Resource {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Status;
  [field: string]: unknown;
}

/** What a client submits: metadata without the server-assigned fields. */
export interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: Partial<ObjectMeta> & Record<string, unknown>;
  spec?: Record<string, unknown>;
  [field: string]: unknown;
}
