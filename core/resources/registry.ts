import { apiVersionOf, type KindDef } from "./kind.js";
import type { RefTargets } from "./validate.js";
import { BrokerKind } from "./kinds/broker.js";
import { TriggerKind } from "./kinds/trigger.js";
import { ChannelKind, InMemoryChannelKind } from "./kinds/channel.js";
import { SubscriptionKind } from "./kinds/subscription.js";
import { ParallelKind, SequenceKind } from "./kinds/flows.js";
import { PingSourceKind, WebhookSourceKind } from "./kinds/sources.js";
import { EventTypeKind } from "./kinds/eventtype.js";
import { EventPolicyKind } from "./kinds/eventpolicy.js";
import { ServiceAccountKind } from "./kinds/serviceaccount.js";
import { ReplayKind } from "./kinds/replay.js";
import { ClusterRoleBindingKind, ClusterRoleKind, RoleBindingKind, RoleKind } from "./kinds/rbac.js";
import { SecretKind } from "./kinds/secret.js";
import { EventTransformKind } from "./kinds/eventtransform.js";
import { RequestReplyKind } from "./kinds/requestreply.js";

/** Every kind the control plane serves, in reconcile order. */
export const KINDS: readonly KindDef[] = [
  BrokerKind, TriggerKind, InMemoryChannelKind, ChannelKind, SubscriptionKind, SequenceKind, ParallelKind,
  PingSourceKind, WebhookSourceKind, EventTypeKind, EventPolicyKind, ServiceAccountKind, ReplayKind,
  SecretKind, RoleKind, ClusterRoleKind, RoleBindingKind, ClusterRoleBindingKind,
  EventTransformKind, RequestReplyKind,
].sort((a, b) => a.order - b.order);

const byPath = new Map(KINDS.map((k) => [`${k.group}/${k.version}/${k.plural}`, k]));
const byApiKind = new Map(KINDS.map((k) => [`${apiVersionOf(k)}/${k.kind}`, k]));

/** The kind served at `/apis/{group}/{version}/namespaces/{ns}/{plural}`. */
export function kindByPath(group: string, version: string, plural: string): KindDef | undefined {
  return byPath.get(`${group}/${version}/${plural}`);
}

export function kindOf(apiVersion: string, kind: string): KindDef | undefined {
  return byApiKind.get(`${apiVersion}/${kind}`);
}

/** Kinds a Destination `ref` may point at: this system's addressables. */
export const ADDRESSABLES: RefTargets = {
  has: (key) => byApiKind.get(key)?.addressPath !== undefined,
  describe: () =>
    KINDS.filter((k) => k.addressPath).map((k) => `${k.kind} (${apiVersionOf(k)})`).join(", "),
};
