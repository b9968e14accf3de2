// The bench's resources, made through Eddy's API with the admin token: Brokers with n Triggers and
// InMemoryChannels with n Subscriptions in namespace "bench", route i delivering to `${sinkUrl}r${i}`.
import { TOKEN } from "./lib.mjs";

export async function api(eddy, method, path, body) {
  const r = await fetch(eddy.url + path, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

export async function brokerWithTriggers(eddy, name, n, sinkUrl, { partitions = 1, triggerAnnotations = {}, brokerAnnotations = {}, triggerSpec = {} } = {}) {
  const ns = "bench";
  const b = await api(eddy, "PUT", `/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers/${name}`, {
    apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name, annotations: { "eddy.dev/partitions": String(partitions), ...brokerAnnotations } }, spec: { delivery: { retry: 3 } },
  });
  for (let i = 0; i < n; i++) {
    await api(eddy, "PUT", `/apis/eventing.knative.dev/v1/namespaces/${ns}/triggers/${name}-t${i}`, {
      apiVersion: "eventing.knative.dev/v1", kind: "Trigger", metadata: { name: `${name}-t${i}`, annotations: triggerAnnotations },
      spec: { broker: name, subscriber: { uri: `${sinkUrl}r${i}` }, filter: { attributes: { type: "dev.eddy.bench" } }, ...triggerSpec },
    });
  }
  return b.status.address.url;
}

export async function channelWithSubscriptions(eddy, name, n, sinkUrl) {
  const ns = "bench";
  const c = await api(eddy, "PUT", `/apis/messaging.knative.dev/v1/namespaces/${ns}/inmemorychannels/${name}`, {
    apiVersion: "messaging.knative.dev/v1", kind: "InMemoryChannel", metadata: { name }, spec: { delivery: { retry: 3 } },
  });
  for (let i = 0; i < n; i++) {
    await api(eddy, "PUT", `/apis/messaging.knative.dev/v1/namespaces/${ns}/subscriptions/${name}-s${i}`, {
      apiVersion: "messaging.knative.dev/v1", kind: "Subscription", metadata: { name: `${name}-s${i}` },
      spec: { channel: { apiVersion: "messaging.knative.dev/v1", kind: "InMemoryChannel", name }, subscriber: { uri: `${sinkUrl}r${i}` } },
    });
  }
  return c.status.address.url;
}
