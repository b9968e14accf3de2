import type { FieldError } from "../errors.js";

/** Eddy's annotations on a Trigger or Subscription that shape how its deliveries go out. */
export const DELIVERY_ORDER = "eddy.dev/delivery-order";
/** Knative Kafka's name for the same setting, accepted so Kafka-broker manifests apply unchanged. */
export const KAFKA_DELIVERY_ORDER = "kafka.eventing.knative.dev/delivery.order";
export const MAX_IN_FLIGHT = "eddy.dev/max-in-flight";
export const RATE_LIMIT = "eddy.dev/rate-limit";

export const MAX_IN_FLIGHT_RANGE = [1, 1000] as const;
export const RATE_LIMIT_RANGE = [0.1, 10_000] as const;

/** What the annotations ask of a route, as its plan carries it. */
export interface RouteFlow {
  /** Deliveries of one `partitionkey` one at a time, in the order they were accepted. */
  ordered?: true;
  /** Most requests to the subscriber at once (across every partition of the owner). */
  maxInFlight?: number;
  /** Most deliveries per second (token bucket with a burst of the same size). */
  ratePerSecond?: number;
}

type Annotations = Record<string, string> | undefined;

function orderValue(a: Annotations): { field: string; value: string } | undefined {
  if (a?.[DELIVERY_ORDER] !== undefined) return { field: DELIVERY_ORDER, value: a[DELIVERY_ORDER] };
  if (a?.[KAFKA_DELIVERY_ORDER] !== undefined) return { field: KAFKA_DELIVERY_ORDER, value: a[KAFKA_DELIVERY_ORDER] };
  return undefined;
}

function number(raw: string | undefined, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const s = String(raw).trim();
  if (!/^[0-9]+(\.[0-9]+)?$/.test(s)) return NaN;
  const n = Number(s);
  return integer && !Number.isInteger(n) ? NaN : n;
}

/** 422 causes for malformed flow annotations, each naming the annotation and the allowed values. */
export function validateRouteFlow(annotations: unknown): FieldError[] {
  if (annotations === undefined || annotations === null || typeof annotations !== "object") return [];
  const a = annotations as Record<string, string>;
  const errs: FieldError[] = [];
  const field = (name: string) => `metadata.annotations.${name}`;
  const o = orderValue(a);
  if (o && o.value !== "ordered" && o.value !== "unordered") {
    errs.push({ field: field(o.field), message: `must be "ordered" or "unordered", got "${o.value}"` });
  }
  const m = number(a[MAX_IN_FLIGHT], true);
  if (m !== undefined && !(m >= MAX_IN_FLIGHT_RANGE[0] && m <= MAX_IN_FLIGHT_RANGE[1])) {
    errs.push({ field: field(MAX_IN_FLIGHT), message: `must be a whole number of requests from ${MAX_IN_FLIGHT_RANGE[0]} to ${MAX_IN_FLIGHT_RANGE[1]}, got "${a[MAX_IN_FLIGHT]}"` });
  }
  const r = number(a[RATE_LIMIT], false);
  if (r !== undefined && !(r >= RATE_LIMIT_RANGE[0] && r <= RATE_LIMIT_RANGE[1])) {
    errs.push({ field: field(RATE_LIMIT), message: `must be a number of deliveries per second from ${RATE_LIMIT_RANGE[0]} to ${RATE_LIMIT_RANGE[1]}, got "${a[RATE_LIMIT]}"` });
  }
  return errs;
}

/** The route settings from valid annotations (admission refused invalid ones). */
export function routeFlow(annotations: Annotations): RouteFlow {
  const out: RouteFlow = {};
  if (orderValue(annotations)?.value === "ordered") out.ordered = true;
  const m = number(annotations?.[MAX_IN_FLIGHT], true);
  if (m !== undefined && Number.isFinite(m)) out.maxInFlight = m;
  const r = number(annotations?.[RATE_LIMIT], false);
  if (r !== undefined && Number.isFinite(r)) out.ratePerSecond = r;
  return out;
}

/**
 * The share of a route's limits one partition of its owner enforces, so the owner as a whole keeps
 * to them: `max-in-flight` is split as evenly as whole requests allow (each partition gets at least
 * one, so with more partitions than requests the cap is the partition count), the rate evenly.
 */
export function partitionShare(flow: RouteFlow, partition: number, partitions: number): RouteFlow {
  if (partitions <= 1) return flow;
  const out: RouteFlow = { ...flow };
  if (flow.maxInFlight !== undefined) {
    const base = Math.floor(flow.maxInFlight / partitions);
    out.maxInFlight = Math.max(1, base + (partition < flow.maxInFlight % partitions ? 1 : 0));
  }
  if (flow.ratePerSecond !== undefined) out.ratePerSecond = flow.ratePerSecond / partitions;
  return out;
}
