// Pure helpers about a delivery's hop (subscriber, reply, dead-letter sink): where it goes and what
// it sends. Nothing here reads storage or changes state, so the state machine's modules share them.
import type { CloudEvent } from "../../core/cloudevents/event.js";
import { toBase64 } from "../../core/base64.js";
import { redactUrl } from "../../core/redact.js";
import { ERROR_DATA_BYTES } from "../../core/delivery/policy.js";
import type { DeliveryOutcome, Hop } from "../../core/delivery/messages.js";
import type { RoutePlan, Target } from "../../core/resources/plan.js";
import type { DeliveryRow } from "./store.js";

/** The destination of a hop on its route; undefined when the route no longer has one. */
export function hopTarget(route: RoutePlan, hop: Hop): Target | undefined {
  return hop === "dls" ? route.deadLetter : hop === "reply" ? route.reply : route.subscriber;
}

/** What a hop sends of its stored event: a dead-letter hop adds Knative's error extensions. */
export function hopEvent(row: Pick<DeliveryRow, "hop" | "error">, event: CloudEvent): CloudEvent {
  if (row.hop !== "dls" || !row.error) return event;
  const err = JSON.parse(row.error) as { dest: string; code: number; data?: string };
  const attrs = { ...event.attrs, knativeerrordest: err.dest, knativeerrorcode: err.code };
  if (err.data) (attrs as Record<string, unknown>).knativeerrordata = err.data;
  return { ...event, attrs };
}

/** Knative's error extensions of a failed delivery, as the row keeps them for its dead-letter hop. */
export function errorJson(dest: string, o: DeliveryOutcome): string {
  const data = o.errorData && o.errorData.length ? toBase64(o.errorData.subarray(0, ERROR_DATA_BYTES)) : undefined;
  // knativeerrordest reaches dead-letter sinks and the kept dead letters' list: a secret in the URL stays out.
  return JSON.stringify({ dest: redactUrl(dest), code: o.status ?? 500, ...(data ? { data } : {}) });
}
