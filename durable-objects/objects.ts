import type { CloudEvent } from "../core/cloudevents/event.js";
import type { AttemptSpec, DeliveryOutcome, OwnerRef } from "../core/delivery/messages.js";
import type { Dispatcher } from "./dispatcher.js";

/** The bindings of the data-plane objects (Broker, Channel, Source share the Dispatcher RPC surface). */
export interface DataPlaneBindings {
  BROKER: DurableObjectNamespace<Dispatcher>;
  CHANNEL: DurableObjectNamespace<Dispatcher>;
  SOURCE: DurableObjectNamespace<Dispatcher>;
}

/** The stub of the data-plane object `ref` (see core/addressables.ts for what lives where). */
export function dataPlaneStub(env: object, ref: OwnerRef): DurableObjectStub<Dispatcher> {
  // Broker, Channel and Source all extend Dispatcher, so their stubs share its RPC surface.
  const ns = (env as DataPlaneBindings)[ref.binding];
  return ns.get(ns.idFromName(ref.name));
}

const enc = new TextEncoder();

/**
 * A delivery to another addressable of this system (a Sequence step, a Parallel branch, a `ref`
 * to a Broker or Channel): an RPC straight to the object behind it, storing the event there, with
 * the outcome an HTTP ingress would have given (202, or 404 when the object is gone).
 */
export async function deliverInternal(env: object, object: OwnerRef, spec: AttemptSpec, event: CloudEvent): Promise<DeliveryOutcome> {
  const base = { id: spec.id, gen: spec.gen };
  try {
    const r = await dataPlaneStub(env, object).publish([event]);
    if (r.ok) return { ...base, ok: true, status: 202 };
    const text = `${spec.url} does not exist (it was deleted, or is not ready yet)`;
    return { ...base, ok: false, status: 404, error: "HTTP 404", errorData: enc.encode(text) };
  } catch (e) {
    const text = `dispatch error: ${(e as Error).message}`;
    return { ...base, ok: false, error: text, errorData: enc.encode(text) };
  }
}
