import type { CloudEvent } from "../cloudevents/event.js";
import type { HmacAlgorithm } from "./crypto.js";
import type { SecretSource } from "../secrets/refs.js";

export type WebhookProvider = "github" | "stripe" | "standard-webhooks" | "slack" | "generic-hmac";

/** `spec.genericHmac` of a WebhookSource: how a provider without a built-in scheme signs. */
export interface GenericHmacSpec {
  header: string;
  algorithm?: HmacAlgorithm;
  encoding?: "hex" | "base64";
  /** Text before the signature in the header, e.g. `sha256=`. */
  prefix?: string;
  /** Header with a Unix timestamp that is signed as `<timestamp>.<body>` and checked against `tolerance`. */
  timestampHeader?: string;
  /** Header holding the provider's delivery id (deduplication); default: a hash of the signature. */
  idHeader?: string;
  /** CloudEvent type (default `dev.eddy.webhook`). */
  type?: string;
}

/** What the data plane needs to receive one WebhookSource's deliveries. */
export interface WebhookConfig {
  provider: WebhookProvider;
  /**
   * Where the signing secrets are (core/secrets/refs.ts): Secrets' keys, or SECRET_ bindings; any
   * one of them may have signed a delivery. Plans made before secretKeyRefs carry binding names.
   */
  secrets: (SecretSource | string)[];
  toleranceMs: number;
  genericHmac?: GenericHmacSpec;
  /** CloudEvent `source` for providers whose payload names none (standard-webhooks, generic-hmac). */
  eventSource: string;
  /** Prefix of the CloudEvent `type` for standard-webhooks (`<prefix>.<payload type>`). */
  typePrefix?: string;
  extensions?: Record<string, string>;
}

export interface WebhookRequest {
  headers: Headers;
  body: Uint8Array;
  now: number;
}

/** The outcome of receiving one delivery. */
export type WebhookResult =
  | { kind: "event"; event: CloudEvent }
  | { kind: "handshake"; status: number; contentType: string; body: string }
  | { kind: "reject"; status: 400 | 401; message: string };

/** A provider's scheme: check the signature, answer handshakes, and map the delivery to attributes. */
export interface Provider {
  /** Default timestamp tolerance, or undefined when the scheme signs no timestamp. */
  defaultToleranceMs?: number;
  /** Null when the signature is good; otherwise why not. */
  verify(req: WebhookRequest, keys: Uint8Array[], cfg: WebhookConfig): Promise<string | null>;
  /** Turns a verified delivery into a CloudEvent's attributes, or answers a handshake. */
  describe(req: WebhookRequest, json: unknown, cfg: WebhookConfig): Promise<Attributes | Extract<WebhookResult, { kind: "handshake" | "reject" }>>;
  /** How a secret string becomes HMAC key bytes (standard-webhooks decodes `whsec_...`). */
  key?(secret: string): Uint8Array;
}

export interface Attributes {
  type: string;
  id: string;
  source: string;
  subject?: string;
  time?: string;
}
