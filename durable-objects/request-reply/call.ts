import type { CloudEvent } from "../../core/cloudevents/event.js";
import type { Sender } from "../../core/identity/policy.js";
import type { EventAnswer } from "../dispatcher-results.js";
import type { Source } from "../source.js";

/** What a RequestReply shard answers a request with; `shards` tells the caller how many there are. */
export interface RequestAnswer extends EventAnswer {
  shards?: number;
}

/** Shard counts by RequestReply, per isolate, learnt from the answers (a count never changes while the object exists). */
const shardCounts = new Map<string, number>();

function shardStub(env: { SOURCE: DurableObjectNamespace<Source> }, ns: string, name: string, shard: number): DurableObjectStub<Source> {
  return env.SOURCE.get(env.SOURCE.idFromName(`RequestReply/${ns}/${name}/${shard}`));
}

/**
 * Asks a RequestReply: the request goes to one of its shards (chosen at random once the count is
 * known), which holds it until the reply comes back through the Broker to that same shard, or its
 * timeout. Used by the Worker's ingress and by an EventTransform whose sink is a RequestReply.
 *
 * @example
 * const answer = await requestReply(env, "demo", "rr", event, { subject }); // { status: 200, event }
 */
export async function requestReply(env: { SOURCE: DurableObjectNamespace<Source> }, ns: string, name: string, event: CloudEvent, sender?: Sender): Promise<RequestAnswer> {
  const key = `${ns}/${name}`;
  const n = shardCounts.get(key) ?? 1;
  const shard = n > 1 ? Math.floor(Math.random() * n) : 0;
  let answer = await shardStub(env, ns, name, shard).request(event, sender);
  // A shard that is gone: the RequestReply was recreated with fewer; shard 0 always exists.
  if (answer.status === 404 && shard !== 0) {
    shardCounts.delete(key);
    answer = await shardStub(env, ns, name, 0).request(event, sender);
  }
  if (answer.shards !== undefined) {
    if (shardCounts.size >= 10_000) shardCounts.clear();
    shardCounts.set(key, answer.shards);
  } else if (answer.status === 404) shardCounts.delete(key);
  return answer;
}
