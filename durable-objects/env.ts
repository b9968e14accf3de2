/**
 * The Worker's bindings and settings (`wrangler.toml`; secrets via `wrangler secret put` or `.dev.vars`),
 * shared by the Worker and the Durable Objects. This module imports no Durable Object: each object
 * declares its own binding beside its class (`declare module "./env.js"` in namespace.ts, broker.ts,
 * channel.ts, source.ts, scheduler.ts, directory.ts), so the objects never import from functions/
 * and the Worker sees every binding typed.
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
  /** Where deliveries may go: `public-only` (default), `public-and-loopback` (`npm start`) or `allow-all` (core/delivery/destinations.ts). */
  DESTINATION_POLICY?: string;
  /** Seals Secrets at rest: 32 random bytes in base64 (`node scripts/secrets-key.mjs`); `npm start` writes one to .dev.vars. */
  EDDY_SECRETS_KEY?: string;
  /** During a rotation, the key EDDY_SECRETS_KEY replaced: values it sealed still open and are sealed again when listed. */
  EDDY_SECRETS_KEY_PREVIOUS?: string;
  /** Most EventTypes Eddy creates by itself for one Broker, Channel or source (default 200; 0 creates none). */
  EVENTTYPE_AUTO_CREATE_LIMIT?: string;
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
  /** Kept dead letters (and the event archive): an R2 bucket; local R2 lives in .wrangler/state. */
  ARCHIVE?: R2Bucket;
  /** Delivery messages, as bytes (core/delivery/wire.ts). */
  DELIVERY_QUEUE: Queue;
  DEAD_LETTER_QUEUE: Queue;
}

