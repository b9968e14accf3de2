import type { CloudEvent } from "../../core/cloudevents/event.js";
import { traceFields } from "../../core/cloudevents/trace.js";
import { compileAuthorizer, type Authorizer, type Sender } from "../../core/identity/policy.js";
import { authSettings } from "../../core/identity/settings.js";
import type { DispatcherPlan } from "../../core/resources/plan.js";
import type { RequestReplyPlan } from "../../core/resources/kinds/requestreply.js";
import { correlationKeys, newToken, signCorrelationId, verifyCorrelationId } from "../../core/requestreply/correlation.js";
import type { Env } from "../env.js";
import type { PublishResult } from "../dispatcher-results.js";
import { SenderGuard } from "../sender.js";
import type { RequestAnswer } from "./call.js";
import { fail, ok } from "../../core/result.js";

/** Requests one shard holds open at most (`REQUEST_REPLY_MAX_WAITING`); more are answered 429. */
export const DEFAULT_MAX_WAITING = 1000;
/** How many ended requests (answered or timed out) a shard remembers, to tell a late reply from a stray one. */
const ENDED_MEMORY = 10_000;

interface Waiter {
  resolve(a: RequestAnswer): void;
  deadline: number;
  id: string;
}

export interface WaitersHost {
  plan(): DispatcherPlan | null;
  counters: {
    add(name: string, n?: number): void;
    drop(reason: string, ev: { id: string; source: string; type: string; route: string; detail: string; traceId?: string }, now: number): void;
  };
  /** Stores the request's event with its delivery to the Broker (the forward leg). */
  forward(event: CloudEvent): Promise<PublishResult>;
}

function planOf(plan: DispatcherPlan | null): RequestReplyPlan | undefined {
  return plan?.kind === "RequestReply" ? plan.options.requestReply : undefined;
}

/**
 * The requests one RequestReply shard holds open, in memory: the waiting HTTP request is this
 * object's RPC, which resolves when the reply arrives here (the reply Trigger delivers to this
 * shard) or at the timeout, with one timer for the nearest deadline. Nothing polls. A reply is
 * taken only when its id verifies; late, repeated, forged or unknown ones are counted, logged and
 * dropped. A restart loses the open requests with their connections, as a Knative pod restart does.
 */
export class Waiters {
  private readonly waiting = new Map<string, Waiter>();
  private readonly ended = new Map<string, "timed-out" | "answered">();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  private compiledFor: DispatcherPlan | null = null;
  private requests: Authorizer = compileAuthorizer(undefined, "", "");
  private readonly replies: SenderGuard;

  constructor(private readonly env: Env, private readonly host: WaitersHost) {
    this.replies = new SenderGuard(env);
  }

  get size(): number {
    return this.waiting.size;
  }

  private configure(plan: DispatcherPlan | null): void {
    if (this.compiledFor === plan) return;
    this.compiledFor = plan;
    const rr = planOf(plan);
    this.requests = compileAuthorizer(rr?.requestAuth, plan?.namespace ?? "", plan ? `RequestReply "${plan.name}" in namespace "${plan.namespace}"` : "");
    this.replies.configure(plan);
  }

  private maxWaiting(): number {
    const n = Number(this.env.REQUEST_REPLY_MAX_WAITING);
    return Number.isInteger(n) && n > 0 ? n : DEFAULT_MAX_WAITING;
  }

  async request(event: CloudEvent, sender: Sender | undefined): Promise<RequestAnswer> {
    const plan = this.host.plan();
    const rr = planOf(plan);
    if (!plan || !rr) return { status: 404, message: "no such RequestReply; create it through the API first" };
    this.configure(plan);
    const what = `RequestReply "${plan.name}"`;
    if (rr.notReady) return { status: 503, message: rr.notReady, retryAfterSeconds: 5, shards: rr.shards };
    const settings = authSettings(this.env);
    const refused = sender && settings.oidc ? this.requests.check([event], sender, settings.defaultMode) : undefined;
    if (refused) {
      this.host.counters.add("rejected.403");
      return { status: 403, message: refused, shards: rr.shards };
    }
    const max = this.maxWaiting();
    if (this.waiting.size >= max) {
      this.host.counters.add("rejected.429");
      return { status: 429, message: `${what} already holds ${max} requests waiting for their replies (REQUEST_REPLY_MAX_WAITING per shard): try again in a moment, or give it more shards with eddy.dev/partitions`, retryAfterSeconds: 1, shards: rr.shards };
    }
    const keys = correlationKeys(this.env.EDDY_SIGNING_KEY, this.env.EDDY_SIGNING_KEY_PREVIOUS);
    if (!keys) return { status: 503, message: `${what} cannot sign correlation ids: EDDY_SIGNING_KEY is not set to a private JWK; generate one with \`node scripts/signing-key.mjs\` and \`wrangler secret put EDDY_SIGNING_KEY\``, shards: rr.shards };
    const token = newToken();
    const id = signCorrelationId(keys, { namespace: plan.namespace, name: plan.name }, rr.shard, token);
    const deadline = Date.now() + rr.timeoutMs;
    const answer = new Promise<RequestAnswer>((resolve) => this.waiting.set(token, { resolve, deadline, id }));
    if (deadline < this.timerAt) this.armAt(deadline);
    this.host.counters.add("requests");
    let stored: PublishResult;
    try {
      stored = await this.host.forward({ ...event, attrs: { ...event.attrs, [rr.correlationAttribute]: id } });
    } catch (e) {
      this.waiting.delete(token);
      throw e;
    }
    if (!stored.ok) {
      this.waiting.delete(token);
      return { status: 503, message: `${what} could not take the request now; try again`, retryAfterSeconds: 1, shards: rr.shards };
    }
    const a = await answer;
    if (a.status === 504) {
      a.message = `no reply within ${rr.timeoutMs / 1000} s (spec.timeout of ${what}): the event "${String(event.attrs.id)}" went to Broker "${rr.broker}" with ${rr.correlationAttribute}=${id}, and no event with ${rr.replyAttribute}=${id} came back through it; the responder must send its reply to that Broker (or answer the delivery with it) carrying that value`;
    }
    return { ...a, shards: rr.shards };
  }

  /** Events posted to this shard's reply address (by its reply Trigger): each answers the request it names. */
  reply(events: CloudEvent[], sender: Sender | undefined): PublishResult {
    const plan = this.host.plan();
    const rr = planOf(plan);
    if (!plan || !rr) return fail(404, "not configured: the RequestReply does not exist");
    this.configure(plan);
    const refused = this.replies.refuse(events, sender);
    if (refused) return fail(403, refused);
    const keys = correlationKeys(this.env.EDDY_SIGNING_KEY, this.env.EDDY_SIGNING_KEY_PREVIOUS);
    const now = Date.now();
    for (const ev of events) {
      const value = ev.attrs[rr.replyAttribute];
      const v = value === undefined ? undefined : verifyCorrelationId(keys, value, { namespace: plan.namespace, name: plan.name });
      const w = v && v.shard === rr.shard ? this.waiting.get(v.token) : undefined;
      if (w && v) {
        this.waiting.delete(v.token);
        this.remember(v.token, "answered");
        this.host.counters.add("replies");
        w.resolve({ status: 200, event: ev });
        continue;
      }
      const [reason, detail] = value === undefined ? ["reply-without-id", `it has no ${rr.replyAttribute} attribute`]
        : !v || v.shard !== rr.shard ? ["reply-forged", `its ${rr.replyAttribute} was not signed by this deployment for this RequestReply and shard`]
        : this.ended.get(v.token) === "timed-out" ? ["reply-after-timeout", `its request had already been answered 504 at its timeout`]
        : this.ended.get(v.token) === "answered" ? ["reply-duplicate", "its request was already answered by an earlier reply"]
        : ["reply-unknown-request", "no request with that id is waiting here (the shard restarted since, or the id is older than it remembers)"];
      this.host.counters.drop(reason, { id: String(ev.attrs.id ?? ""), source: String(ev.attrs.source ?? ""), type: String(ev.attrs.type ?? ""), route: plan.name, detail, ...traceFields(ev) }, now);
    }
    return ok({ accepted: events.length });
  }

  private remember(token: string, how: "timed-out" | "answered"): void {
    if (this.ended.size >= ENDED_MEMORY) this.ended.delete(this.ended.keys().next().value!);
    this.ended.set(token, how);
  }

  /** One timer, for the nearest deadline. */
  private armAt(next: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = next;
    if (next !== Infinity) this.timer = setTimeout(() => this.expire(), Math.max(0, next - Date.now()));
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    for (const [token, w] of this.waiting) {
      if (w.deadline > now) continue;
      this.waiting.delete(token);
      this.remember(token, "timed-out");
      this.host.counters.add("timedOut");
      w.resolve({ status: 504 });
    }
    let next = Infinity;
    for (const w of this.waiting.values()) if (w.deadline < next) next = w.deadline;
    this.armAt(next);
  }
}
