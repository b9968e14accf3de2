import type { KReference, Manifest } from "./types.js";
import { AUTO_CREATED_LABEL } from "./kinds/eventtype.js";

/** Switches off EventType auto-creation on a Broker, Channel or InMemoryChannel when "false". */
export const AUTO_CREATE_ANNOTATION = "eddy.dev/eventtype-auto-create";

export interface ObservedType {
  type: string;
  source: string;
}

/** 64-bit FNV-1a as hex: a stable, synchronous name hash (not for security). */
function fnv64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(text)) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

/**
 * The EventType Eddy creates for a (type, source) seen at an addressable, named like Knative's
 * `et-{owner}-{hash}` and labelled as auto-created (so it goes when its owner goes).
 *
 * @example
 * autoEventType({ apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "default", namespace: "demo" }, { type: "t", source: "/s" });
 */
export function autoEventType(ref: KReference, t: ObservedType): Manifest & { metadata: { name: string } } {
  const hash = fnv64(`${ref.kind}\n${ref.name}\n${t.type}\n${t.source}`);
  const owner = ref.name.slice(0, 63 - 4 - 17).replace(/-+$/, "");
  return {
    apiVersion: "eventing.knative.dev/v1beta3",
    kind: "EventType",
    metadata: { name: `et-${owner}-${hash}`, labels: { [AUTO_CREATED_LABEL]: "true" } },
    spec: {
      reference: { ...ref },
      description: `Seen at ${ref.kind} ${ref.name}; created by Eddy`,
      attributes: [
        { name: "specversion", required: true, value: "1.0" },
        { name: "id", required: true },
        { name: "type", required: true, value: t.type },
        { name: "source", required: true, value: t.source },
      ],
    },
  };
}

/** The reference a data-plane plan carries when it should report the event types it sees. */
export function eventTypeReference(apiVersion: string, kind: string, name: string, namespace: string, annotations?: Record<string, string>): KReference | undefined {
  if (annotations?.[AUTO_CREATE_ANNOTATION] === "false") return undefined;
  return { apiVersion, kind, name, namespace };
}
