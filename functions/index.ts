import { app } from "./app.js";
import { directIngress } from "./ingress/direct.js";
import { consumeDeliveries } from "./consumers/delivery.js";
import type { Env } from "./env.js";
import { log } from "../core/log.js";
import type { DeliveryMessage } from "../core/delivery/messages.js";

export { Namespace } from "../durable-objects/namespace.js";
export { Broker } from "../durable-objects/broker.js";
export { Channel } from "../durable-objects/channel.js";
export { Source } from "../durable-objects/source.js";
export { Scheduler } from "../durable-objects/scheduler.js";
export { Directory } from "../durable-objects/directory.js";

export default {
  // Events posted to a Broker or channel skip the router; every other request goes through the app.
  fetch: (req, env, ctx) => directIngress(req, env) ?? app.fetch(req, env, ctx),
  /** The per-minute Cron Trigger: fires the PingSources due this minute. */
  async scheduled(controller, env) {
    const r = await env.SCHEDULER.get(env.SCHEDULER.idFromName("global")).tick(controller.scheduledTime);
    if (r.due) log.info("cron tick", { scheduledTime: new Date(controller.scheduledTime).toISOString(), ...r });
  },
  async queue(batch, env, ctx) {
    await consumeDeliveries(batch as MessageBatch<DeliveryMessage>, env, (req) => Promise.resolve(app.fetch(req, env, ctx)));
  },
} satisfies ExportedHandler<Env>;
