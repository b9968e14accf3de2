import type { Broker } from "../durable-objects/broker.js";
import type { Channel } from "../durable-objects/channel.js";
import type { Dispatcher } from "../durable-objects/dispatcher.js";
import type { Source } from "../durable-objects/source.js";
import type { Scheduler } from "../durable-objects/scheduler.js";
import type { Namespace } from "../durable-objects/namespace.js";
import type { Directory } from "../durable-objects/directory.js";

/**
 * The Worker's bindings and settings (`wrangler.toml`; secrets via `wrangler secret put` or `.dev.vars`).
 */
export interface Env {
  /** Bearer token for the control-plane API; also accepted as a sender at every ingress. */
  ADMIN_TOKEN?: string;
  /** `enabled` (default): ingresses require a token and deliveries carry one; `disabled`: neither. */
  AUTHENTICATION_OIDC?: string;
  /** Who may send where no EventPolicy applies: `allow-same-namespace` (default), `allow-all` or `deny-all`. */
  DEFAULT_AUTHORIZATION_MODE?: string;
  /** The private JWK (ES256 or RS256) Eddy signs tokens with; `npm start` writes one to .dev.vars. */
  EDDY_SIGNING_KEY?: string;
  /** After a rotation, the previous private JWK: tokens it signed keep verifying until they expire. */
  EDDY_SIGNING_KEY_PREVIOUS?: string;
  /** Changes each namespace keeps so that watches can resume (default 1000); older versions answer 410. */
  WATCH_HISTORY?: string;
  /** Base of every `status.address.url`; defaults to the origin the API was called on. */
  PUBLIC_URL?: string;
  /** Largest accepted ingress request, in bytes (default 262144). */
  MAX_EVENT_BYTES?: string;
  /** Seconds past an attempt's timeout after which an unsettled delivery is sent again. */
  LEASE_SLACK_SECONDS?: string;
  /** Most deliveries one Broker keeps dispatched at once (default 1000); the rest wait in storage. */
  MAX_IN_FLIGHT?: string;
  /** Expected cost of one delivery-queue hop in ms (default 60): attempts wait for one of an object's own connections only while that is expected to be shorter. */
  QUEUE_HOP_MS?: string;
  /** Most attempts waiting for one of an object's own connections (default 200); the rest go through the queue. */
  LOCAL_BACKLOG?: string;
  /** Seconds a delivery handed to the queue may go unclaimed before it is presumed lost and sent again (default 900). */
  QUEUE_LEASE_SECONDS?: string;
  /** The Workers plan the deployment runs on, for its budgets: `paid` (default) or `free` (core/delivery/budget.ts). */
  WORKERS_PLAN?: string;
  /** Subrequests one invocation may make; overrides the plan's (50 on Free, 10,000 on Paid). */
  SUBREQUEST_LIMIT?: string;
  /** Requests one RequestReply shard holds open at once (default 1000); more are answered 429. */
  REQUEST_REPLY_MAX_WAITING?: string;
  NAMESPACE: DurableObjectNamespace<Namespace>;
  BROKER: DurableObjectNamespace<Broker>;
  CHANNEL: DurableObjectNamespace<Channel>;
  SOURCE: DurableObjectNamespace<Source>;
  SCHEDULER: DurableObjectNamespace<Scheduler>;
  /** The namespaces in use (one instance, "global"), for `kubectl get namespaces` and `-A`. */
  DIRECTORY: DurableObjectNamespace<Directory>;
  /** Kept dead letters (and the event archive): an R2 bucket; local R2 lives in .wrangler/state. */
  ARCHIVE?: R2Bucket;
  /** Delivery messages, as bytes (core/delivery/wire.ts). */
  DELIVERY_QUEUE: Queue;
  DEAD_LETTER_QUEUE: Queue;
}

/** The Durable Object namespace that runs a data-plane binding. */
export function dispatcherNamespace(env: Env, binding: "BROKER" | "CHANNEL" | "SOURCE"): DurableObjectNamespace<Dispatcher> {
  // All three classes share the Dispatcher RPC surface (configure, publish, settle, claim, stats).
  const ns = binding === "CHANNEL" ? env.CHANNEL : binding === "SOURCE" ? env.SOURCE : env.BROKER;
  return ns as unknown as DurableObjectNamespace<Dispatcher>;
}
