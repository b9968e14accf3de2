import type { CrdInfo, Schema } from "./crds.js";

const str = (description: string): Schema => ({ type: "string", description });

const REF: Schema = {
  type: "object",
  description: "Ref points to an Addressable of this Eddy in the same namespace.",
  properties: {
    apiVersion: str("API version of the referent."),
    kind: str("Kind of the referent."),
    name: str("Name of the referent."),
    namespace: str("Namespace of the referent; defaults to the namespace of the source."),
  },
};

const DESTINATION = (description: string): Schema => ({
  type: "object",
  description,
  properties: {
    ref: REF,
    uri: str("An absolute URL, or a URI relative to the ref's address."),
    CACerts: str("Not used by Eddy: Workers trust the public CA roots."),
    audience: str("OIDC audience of the destination."),
  },
});

/** A secretKeyRef object, or (as a plain string) a SECRET_ binding's name. */
const SECRET_SOURCE: Schema = {
  description: "{secretKeyRef: {name, key}}, or the name of a wrangler secret starting with SECRET_.",
  properties: {
    secretKeyRef: {
      type: "object",
      description: "A key of a Secret in the source's namespace; its value is the signing secret, read again when the Secret changes.",
      properties: { name: str("Name of the Secret."), key: str("Key of the Secret's data.") },
    },
  },
};

const CONDITIONS: Schema = {
  type: "array",
  description: "Conditions the latest available observations of the resource's current state.",
  items: {
    type: "object",
    properties: {
      type: str("Type of condition."),
      status: str("Status of the condition, one of True, False, Unknown."),
      reason: str("The reason for the condition's last transition."),
      message: str("A human readable message indicating details about the transition."),
      lastTransitionTime: str("The last time the condition transitioned from one status to another."),
      severity: str("How to interpret failures of this condition, one of Error, Warning, Info."),
    },
  },
};

/**
 * `sources.eddy.dev/v1alpha1` WebhookSource has no Knative CRD; this is its schema in the same
 * form, written from core/resources/kinds/sources.ts, so kubectl explains and validates it too.
 */
export const WEBHOOK_SOURCE_CRD: CrdInfo = {
  group: "sources.eddy.dev",
  version: "v1alpha1",
  kind: "WebhookSource",
  plural: "webhooksources",
  singular: "webhooksource",
  categories: ["all", "knative", "sources"],
  columns: [
    { name: "Provider", type: "string", jsonPath: ".spec.provider" },
    { name: "URL", type: "string", jsonPath: ".status.address.url" },
    { name: "Sink", type: "string", jsonPath: ".status.sinkUri" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
    { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: "Reason", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
  ],
  schema: {
    type: "object",
    description: "WebhookSource is a public webhook URL that verifies a provider's signature, drops redeliveries, and sends each delivery to its sink as a CloudEvent.",
    properties: {
      spec: {
        type: "object",
        description: "WebhookSourceSpec defines the provider, its signing secrets and the sink.",
        required: ["provider", "sink"],
        properties: {
          provider: { type: "string", enum: ["github", "stripe", "slack", "standard-webhooks", "generic-hmac"], description: "Provider names the signature scheme: github, stripe, slack, standard-webhooks or generic-hmac." },
          secrets: { type: "array", items: SECRET_SOURCE, description: "Secrets lists where the signing secret is: {secretKeyRef: {name, key}} of a Secret in this namespace, or the name of a wrangler secret starting with SECRET_; more than one during a rotation." },
          secret: { ...SECRET_SOURCE, description: "Secret is a shorthand for a single entry of secrets." },
          tolerance: str("Tolerance is how far a signed timestamp may be from now, as an ISO-8601 duration (default: the provider's)."),
          dedupWindow: str("DedupWindow is how long a delivery id is remembered to drop redeliveries, as an ISO-8601 duration."),
          eventSource: str("EventSource is the CloudEvent source for providers whose payload names none (default: the webhook URL)."),
          typePrefix: str("TypePrefix is the CloudEvent type prefix for standard-webhooks."),
          genericHmac: {
            type: "object",
            description: "GenericHmac describes how a provider without a built-in scheme signs (provider generic-hmac only).",
            properties: {
              header: str("Header carrying the signature."),
              algorithm: { type: "string", enum: ["sha1", "sha256", "sha512"], description: "HMAC algorithm (default sha256)." },
              encoding: { type: "string", enum: ["hex", "base64"], description: "Encoding of the signature (default hex)." },
              prefix: str("Text before the signature in the header, e.g. sha256=."),
              timestampHeader: str("Header with a Unix timestamp signed as <timestamp>.<body>."),
              idHeader: str("Header holding the provider's delivery id."),
              type: str("CloudEvent type (default dev.eddy.webhook)."),
            },
          },
          sink: DESTINATION("Sink is where the events go."),
          ceOverrides: {
            type: "object",
            description: "CloudEventOverrides defines overrides to control the output format and modifications of the event sent to the sink.",
            properties: { extensions: { type: "object", additionalProperties: { type: "string" }, description: "Extensions specify what attribute are added or overridden on the outbound event." } },
          },
          delivery: { type: "object", description: "Delivery is the retry and dead-letter policy for the events sent to the sink.", "x-kubernetes-preserve-unknown-fields": true },
        },
      },
      status: {
        type: "object",
        description: "WebhookSourceStatus defines the observed state of the WebhookSource.",
        properties: {
          observedGeneration: { type: "integer", format: "int64", description: "The generation last processed." },
          conditions: CONDITIONS,
          address: { type: "object", description: "The webhook URL.", properties: { url: str("URL to give the provider.") } },
          addresses: { type: "array", items: { type: "object", properties: { name: str("Name of the address."), url: str("URL.") } }, description: "All addresses." },
          sinkUri: str("SinkURI is the resolved sink."),
          missingSecrets: { type: "array", items: { type: "string" }, description: "Secrets named in spec.secrets that are not set." },
          ceAttributes: { type: "array", items: { type: "object", "x-kubernetes-preserve-unknown-fields": true }, description: "CloudEvent attributes this source emits." },
        },
      },
    },
  },
};

/** `eventing.eddy.dev/v1alpha1` Replay (core/resources/kinds/replay.ts), in the same form. */
export const REPLAY_CRD: CrdInfo = {
  group: "eventing.eddy.dev",
  version: "v1alpha1",
  kind: "Replay",
  plural: "replays",
  singular: "replay",
  categories: ["all", "knative", "eventing"],
  columns: [
    { name: "Target", type: "string", jsonPath: ".spec.broker" },
    { name: "From", type: "string", jsonPath: ".spec.from" },
    { name: "To", type: "string", jsonPath: ".spec.to" },
    { name: "Replayed", type: "integer", jsonPath: ".status.replayed" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
    { name: "Succeeded", type: "string", jsonPath: '.status.conditions[?(@.type=="Succeeded")].status' },
    { name: "Reason", type: "string", jsonPath: '.status.conditions[?(@.type=="Succeeded")].reason' },
  ],
  schema: {
    type: "object",
    description: "Replay delivers again the events an archiving Broker or Channel (eddy.dev/archive-retention) accepted in a window of time, each with the extension eddyreplay.",
    properties: {
      spec: {
        type: "object",
        description: "ReplaySpec names the archive, the window and where the events go. It cannot change once created.",
        required: ["from", "to"],
        properties: {
          broker: str("Broker is the name of the Broker whose archive is replayed (or set channel)."),
          channel: { type: "object", description: "Channel names a Channel or InMemoryChannel (a bare name is also accepted).", "x-kubernetes-preserve-unknown-fields": true },
          from: str("From is the start of the window of acceptance times, RFC 3339, included."),
          to: str("To is the end of the window, RFC 3339, included; the window ends when the Replay is created at the latest."),
          trigger: str("Trigger limits the replay to one Trigger of the Broker (by default every Trigger whose filter matches)."),
          subscription: str("Subscription limits a Channel's replay to one Subscription."),
          filters: { type: "array", description: "Filters in the Trigger dialects, ANDed with each Trigger's own filter.", items: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
        },
      },
      status: {
        type: "object",
        description: "ReplayStatus tells how far the replay got.",
        properties: {
          observedGeneration: { type: "integer", format: "int64", description: "The generation last processed." },
          conditions: CONDITIONS,
          replayed: { type: "integer", description: "Events handed to delivery so far, over every partition." },
          progress: { type: "object", description: "Partitions done out of all, and the acceptance time reached.", "x-kubernetes-preserve-unknown-fields": true },
          startTime: str("When the Replay was created."),
          completionTime: str("When it finished."),
        },
      },
    },
  },
};
