#!/usr/bin/env node
// What an EventTransform and a RequestReply cost, measured alone (not part of `npm run bench`):
//   node bench/transform.mjs            both parts
//   node bench/transform.mjs transform  a Trigger straight to a subscriber, then the same Trigger
//                                       through an EventTransform (a realistic order expression) to it
//   node bench/transform.mjs rr         RequestReply round trips beside direct calls to its responder
// BENCH_SECONDS (default 5) and BENCH_CONNECTIONS (16) for the transform runs; BENCH_RR_REQUESTS
// (2000) and BENCH_RR_CONNECTIONS (8) for the round trips. Needs a quiet machine, as `npm run bench`.
import { createServer } from "node:http";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { drain, startEddy, startSink, TOKEN, workerdCpu } from "./lib.mjs";
import { api } from "./resources.mjs";
import { bundle } from "./quick.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const RR_REQUESTS = Number(process.env.BENCH_RR_REQUESTS ?? 2000);
const RR_CONNECTIONS = Number(process.env.BENCH_RR_CONNECTIONS ?? 8);
const parts = process.argv.slice(2).length ? process.argv.slice(2) : ["transform", "rr"];
const NS = "bench";
const ET = "eventing.knative.dev/v1alpha1";

/** An order of five lines, about 1 KB, as a shop would publish it. */
const ORDER = JSON.stringify({
  id: "order-4711", region: "eu-west", created: "2026-01-01T12:00:00Z",
  customer: { id: "c-42", name: "Ada Lovelace", email: "ada@example.com", tier: "gold" },
  items: Array.from({ length: 5 }, (_, i) => ({ productId: `p-${i}`, name: `Product ${i}`, quantity: i + 1, price: 19.99 * (i + 1), tags: ["a", "b"] })),
});

/** Knative's order-processing example, keeping the bench's stamps so the sink can time each event. */
const EXPRESSION = `{
  "specversion": "1.0", "id": id, "type": "order.processed", "source": "transform.order-processor", "time": time,
  "benchtag": benchtag, "benchsent": benchsent,
  "orderid": data.id, "customerid": data.customer.id, "region": data.region,
  "priority": $sum(data.items.(price * quantity)) > 1000 ? "high" : "standard",
  "data": {
    "orderId": data.id, "customer": data.customer,
    "items": data.items.{ "productId": productId, "name": name, "quantity": quantity, "unitPrice": price, "totalPrice": price * quantity },
    "total": $sum(data.items.(price * quantity)), "tax": $sum(data.items.(price * quantity)) * 0.1
  }
}`;

const cpu = () => Object.values(workerdCpu()).reduce((a, b) => a + b, 0);
const f1 = (x) => x.toFixed(1);

async function ready(path) {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    const o = await api(globalThis.eddy, "GET", path);
    if (o.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) return o;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${path} did not become Ready`);
}

/** Closed-loop load of the order event for SECONDS, then every delivery awaited: events/s, latency, workerd CPU per event. */
async function deliveries(sink, url, tag) {
  let n = 0;
  const c0 = cpu();
  const t0 = performance.now();
  const r = await autocannon({
    url, connections: CONNECTIONS, duration: SECONDS, pipelining: 1,
    requests: [{
      method: "POST",
      setupRequest: (req) => ({
        ...req, body: ORDER,
        headers: {
          "content-type": "application/json", authorization: `Bearer ${TOKEN}`, "ce-specversion": "1.0", "ce-type": "order.created", "ce-source": "/shop",
          "ce-id": `${tag}-${++n}`, "ce-time": "2026-01-01T12:00:00Z", "ce-benchtag": tag, "ce-benchsent": String(performance.now()),
        },
      }),
    }],
  });
  if (r.non2xx || !r["2xx"]) throw new Error(`${tag}: ${r.non2xx} refused`);
  const d = await drain(sink, tag, r["2xx"], 120_000);
  const last = sink.runs.get(tag).last;
  return { rate: d.delivered / ((last - t0) / 1000), p50: d.p50, p99: d.p99, lost: d.lost, cpuUs: ((cpu() - c0) * 1e6) / r["2xx"] };
}

async function transformPart(sink) {
  const eddy = globalThis.eddy;
  await api(eddy, "PUT", `/apis/eventing.knative.dev/v1/namespaces/${NS}/brokers/orders`, { apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name: "orders" }, spec: { delivery: { retry: 3 } } });
  await api(eddy, "PUT", `/apis/eventing.knative.dev/v1/namespaces/${NS}/brokers/shaped`, { apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name: "shaped" }, spec: { delivery: { retry: 3 } } });
  await api(eddy, "PUT", `/apis/${ET}/namespaces/${NS}/eventtransforms/order-processor`, { apiVersion: ET, kind: "EventTransform", metadata: { name: "order-processor" }, spec: { sink: { uri: `${sink.url}shaped` }, jsonata: { expression: EXPRESSION } } });
  const trigger = (name, broker, subscriber) => api(eddy, "PUT", `/apis/eventing.knative.dev/v1/namespaces/${NS}/triggers/${name}`, { apiVersion: "eventing.knative.dev/v1", kind: "Trigger", metadata: { name }, spec: { broker, subscriber, filter: { attributes: { type: "order.created" } } } });
  await trigger("plain", "orders", { uri: `${sink.url}plain` });
  await trigger("via-transform", "shaped", { ref: { apiVersion: ET, kind: "EventTransform", name: "order-processor" } });
  await ready(`/apis/eventing.knative.dev/v1/namespaces/${NS}/triggers/via-transform`);
  const plainUrl = `${eddy.url}/brokers/${NS}/orders`;
  const shapedUrl = `${eddy.url}/brokers/${NS}/shaped`;
  await deliveries(sink, plainUrl, "warm-plain");
  await deliveries(sink, shapedUrl, "warm-shaped");
  const plain = await deliveries(sink, plainUrl, "plain");
  const shaped = await deliveries(sink, shapedUrl, "shaped");
  console.log(`plain Trigger:            ${f1(plain.rate)} events/s delivered, p50 ${f1(plain.p50)} ms, p99 ${f1(plain.p99)} ms, workerd CPU ${plain.cpuUs.toFixed(0)} µs/event (lost ${plain.lost})`);
  console.log(`Trigger → EventTransform: ${f1(shaped.rate)} events/s delivered, p50 ${f1(shaped.p50)} ms, p99 ${f1(shaped.p99)} ms, workerd CPU ${shaped.cpuUs.toFixed(0)} µs/event (lost ${shaped.lost})`);
  console.log(`  the transform costs ${(shaped.cpuUs - plain.cpuUs).toFixed(0)} µs of workerd CPU per event (${(shaped.cpuUs / plain.cpuUs).toFixed(2)}x), ${(shaped.rate / plain.rate).toFixed(2)}x the throughput`);
}

/** A responder: answers every event with a reply carrying its correlationid as replyid. */
async function startResponder() {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      res.writeHead(200, {
        "ce-specversion": "1.0", "ce-id": `re-${req.headers["ce-id"]}`, "ce-source": "/responder", "ce-type": "dev.eddy.bench.reply",
        ...(req.headers["ce-correlationid"] ? { "ce-replyid": req.headers["ce-correlationid"] } : {}), "content-type": "application/json",
      });
      res.end(Buffer.concat(chunks));
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((ok) => { server.closeAllConnections(); server.close(ok); }) };
}

/** RR_REQUESTS requests over RR_CONNECTIONS connections: latency percentiles of whole round trips. */
async function roundTrips(url, tag) {
  let n = 0;
  const r = await autocannon({
    url, connections: RR_CONNECTIONS, amount: RR_REQUESTS, pipelining: 1,
    requests: [{
      method: "POST",
      setupRequest: (req) => ({
        ...req, body: '{"question":42}',
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}`, "ce-specversion": "1.0", "ce-type": "dev.eddy.bench.request", "ce-source": "/bench", "ce-id": `${tag}-${++n}` },
      }),
    }],
  });
  if (r.non2xx) throw new Error(`${tag}: ${r.non2xx} answers were not 2xx`);
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average };
}

async function requestReplyPart() {
  const eddy = globalThis.eddy;
  const responder = await startResponder();
  try {
    await api(eddy, "PUT", `/apis/eventing.knative.dev/v1/namespaces/${NS}/brokers/rr`, { apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name: "rr" }, spec: {} });
    await api(eddy, "PUT", `/apis/eventing.knative.dev/v1/namespaces/${NS}/triggers/responder`, { apiVersion: "eventing.knative.dev/v1", kind: "Trigger", metadata: { name: "responder" }, spec: { broker: "rr", subscriber: { uri: responder.url }, filter: { attributes: { type: "dev.eddy.bench.request" } } } });
    await api(eddy, "PUT", `/apis/${ET}/namespaces/${NS}/requestreplies/ask`, { apiVersion: ET, kind: "RequestReply", metadata: { name: "ask" }, spec: { brokerRef: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "rr" } } });
    const rr = await ready(`/apis/${ET}/namespaces/${NS}/requestreplies/ask`);
    await roundTrips(responder.url, "warm-direct");
    await roundTrips(rr.status.address.url, "warm-rr");
    const direct = await roundTrips(responder.url, "direct");
    const via = await roundTrips(rr.status.address.url, "rr");
    console.log(`direct call to the responder: p50 ${direct.p50} ms, p99 ${direct.p99} ms (${f1(direct.rps)} req/s over ${RR_CONNECTIONS} connections)`);
    console.log(`through the RequestReply:    p50 ${via.p50} ms, p99 ${via.p99} ms (${f1(via.rps)} req/s over ${RR_CONNECTIONS} connections)`);
  } finally {
    await responder.close();
  }
}

async function main() {
  const { script, workerOptions } = await bundle();
  const sink = await startSink();
  globalThis.eddy = await startEddy(script, workerOptions);
  console.log(`load avg ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  try {
    if (parts.includes("transform")) await transformPart(sink);
    if (parts.includes("rr")) await requestReplyPart();
  } finally {
    await globalThis.eddy.stop();
    await sink.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main().catch((e) => { console.error(e); process.exit(1); });
