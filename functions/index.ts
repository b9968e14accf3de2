import { app } from "./app.js";
import { consumeDeliveries } from "./consumers/delivery.js";
import type { Env } from "./env.js";
import type { DeliveryMessage } from "../core/delivery/messages.js";

export { Namespace } from "../durable-objects/namespace.js";
export { Broker } from "../durable-objects/broker.js";
export { Channel } from "../durable-objects/channel.js";

export default {
  fetch: app.fetch,
  async queue(batch, env, ctx) {
    await consumeDeliveries(batch as MessageBatch<DeliveryMessage>, env, (req) => Promise.resolve(app.fetch(req, env, ctx)));
  },
} satisfies ExportedHandler<Env>;
