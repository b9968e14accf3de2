import type { Manifest } from "./types.js";
import { isObject } from "./validate.js";

/** Defaults `ref.namespace` of a Destination to the object's namespace, as Knative's webhook does. */
export function defaultRefNamespace(dest: unknown, namespace: string): void {
  if (isObject(dest) && isObject(dest.ref) && dest.ref.namespace === undefined) dest.ref.namespace = namespace;
}

/** Defaults the dead-letter sink ref of a DeliverySpec. */
export function defaultDeliveryNamespace(delivery: unknown, namespace: string): void {
  if (isObject(delivery)) defaultRefNamespace(delivery.deadLetterSink, namespace);
}

export function specOf(obj: Manifest): Record<string, unknown> {
  return (obj.spec ??= {});
}
