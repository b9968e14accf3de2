import type { CloudEvent } from "../core/cloudevents/event.js";
import { inheritTrace, traceFields } from "../core/cloudevents/trace.js";
import type { DeliveryOutcome } from "../core/delivery/messages.js";
import { ERROR_DATA_BYTES } from "../core/delivery/policy.js";
import type { Sender } from "../core/identity/policy.js";
import { maxEventBytes } from "../core/limits.js";
import { log } from "../core/log.js";
import type { DispatcherPlan } from "../core/resources/plan.js";
import type { TransformPlan } from "../core/resources/kinds/eventtransform.js";
import { compileTransform, DEFAULT_EVAL_LIMITS, type CompiledTransform } from "../core/transform/jsonata.js";
import { transformInput, transformOutput } from "../core/transform/event-json.js";
import type { Env } from "./env.js";
import type { EventAnswer } from "./dispatcher-results.js";
import { callTarget } from "./target-call.js";
import { SenderGuard } from "./sender.js";

interface Compiled {
  plan: DispatcherPlan;
  t: TransformPlan;
  request: CompiledTransform;
  reply?: CompiledTransform;
  guard: SenderGuard;
}

const dec = new TextDecoder();

/**
 * The data plane of one EventTransform, inside its object: the expressions compiled once per plan,
 * each event evaluated (bounded in time, depth and size: core/transform/jsonata.ts), and, with a
 * sink, the result sent there and the sink's answer passed back, its reply transformed or dropped.
 *
 * Answers as Knative's transformer does: the transformed event (200), or the sink's status with
 * its reply. An expression that fails, or whose result is not a valid CloudEvent, is the sender's
 * 400 with the reason; a delivery that gets it fails for good, the reason in `knativeerrordata`.
 *
 * @example
 * const answer = await transformer.transform(plan, event, sender, 60_000); // { status: 200, event }
 */
export class Transformer {
  private compiled: Compiled | undefined;

  constructor(private readonly env: Env, private readonly counters: { add(name: string, n?: number): void }) {}

  async transform(plan: DispatcherPlan | null, event: CloudEvent, sender: Sender | undefined, timeoutMs: number): Promise<EventAnswer> {
    if (!plan || plan.kind !== "EventTransform") return { status: 404, message: "no such EventTransform; create it through the API first" };
    const c = this.compile(plan);
    const what = `EventTransform "${plan.name}" in namespace "${plan.namespace}"`;
    if (typeof c === "string") return { status: 503, message: `${what} ${c}`, retryAfterSeconds: 5 };
    const refused = c.guard.refuse([event], sender);
    if (refused) {
      this.counters.add("rejected.403");
      return { status: 403, message: refused };
    }
    const out = await this.apply(c.request, event, `${what}: spec.jsonata.expression`);
    if ("status" in out) return out;
    this.counters.add("transformed");
    if (!c.t.sink) return { status: 200, event: out };
    const sent = await callTarget(this.env, c.t.sink, out, { namespace: plan.namespace, timeoutMs, sender: c.t.sender });
    return this.answer(c, event, sent, what);
  }

  /** The sink's answer as the transform's: its status, with its reply as it was, transformed or dropped. */
  private async answer(c: Compiled, original: CloudEvent, o: DeliveryOutcome, what: string): Promise<EventAnswer> {
    if (!o.ok) {
      const text = o.errorData?.length ? dec.decode(o.errorData.subarray(0, ERROR_DATA_BYTES)) : o.error ?? "";
      this.counters.add("sinkFailed");
      return { status: o.status ?? 502, message: `the sink ${c.t.sink!.url} of ${what} ${o.status ? `answered ${o.status}` : "did not answer"}: ${text}` };
    }
    const status = o.status ?? 200;
    if (!o.reply) return { status };
    const reply = c.t.reply;
    if (reply && "discard" in reply) {
      this.counters.add("repliesDiscarded");
      return { status };
    }
    if (!c.reply) return { status, event: o.reply };
    const out = await this.apply(c.reply, o.reply, `${what}: spec.reply.jsonata.expression, on the sink's reply`);
    if ("status" in out) return out;
    this.counters.add("repliesTransformed");
    return { status: 200, event: inheritTrace(original, out) };
  }

  /** The transformed event, or the 400 that says why there is none. */
  private async apply(expr: CompiledTransform, event: CloudEvent, where: string): Promise<CloudEvent | EventAnswer> {
    const r = await expr.evaluate(transformInput(event));
    let why: string;
    if ("value" in r) {
      try {
        return inheritTrace(event, transformOutput(r.value, maxEventBytes(this.env)));
      } catch (e) {
        why = (e as Error).message;
      }
    } else why = `the expression failed ${r.error}`;
    this.counters.add("transformFailed");
    log.warn("transform failed", { where, event: String(event.attrs.id ?? ""), reason: why, ...traceFields(event) });
    return { status: 400, message: `${where}: ${why}` };
  }

  /** The plan's expressions, compiled once per plan; or why the transform cannot run (503). */
  private compile(plan: DispatcherPlan): Compiled | string {
    if (this.compiled?.plan === plan) return this.compiled;
    const t = plan.kind === "EventTransform" ? plan.options.transform : undefined;
    if (!t) return "is not ready: its sink does not resolve, or an EventPolicy that applies to it is not ready; see its status";
    const guard = new SenderGuard(this.env);
    guard.configure(plan);
    const limits = { ...DEFAULT_EVAL_LIMITS, stringChars: maxEventBytes(this.env) };
    try {
      this.compiled = {
        plan, t, guard,
        request: compileTransform(t.expression, limits),
        ...(t.reply && "expression" in t.reply ? { reply: compileTransform(t.reply.expression, limits) } : {}),
      };
    } catch (e) {
      // Admission compiled it; failing here means stored data no longer parses (a library upgrade).
      log.error("a stored JSONata expression does not compile", { transform: plan.key, error: String((e as { message?: string }).message ?? e) });
      return "has an expression that no longer compiles; apply the EventTransform again to see why";
    }
    return this.compiled;
  }
}
