// `npm run bench` row for a slow, healthy subscriber: 200 events posted at once to a Trigger whose
// subscriber answers after 3 s (delivery.timeout PT5S, retry 3). Leases that ran out while
// deliveries waited for a connection in a consumer batch sent 70 of them twice at 7d7e627; each
// should now arrive exactly once. Reports duplicates, the time it took, and the cost per event.

const EVENTS = Number(process.env.BENCH_SLOW_EVENTS ?? 200);

export async function slowSubscriber({ eddy, sink, load, drain, meterOf, settled, perEvent, brokerWithTriggers }) {
  const url = await brokerWithTriggers(eddy, "slow", 1, `${sink.url}delay3000/`, { triggerSpec: { delivery: { timeout: "PT5S", retry: 3, backoffDelay: "PT1S" } } });
  const before = await meterOf(eddy, "brokers", "slow");
  const t0 = performance.now();
  const ingress = await load({ url, tag: "slow", connections: EVENTS, amount: EVENTS });
  const d = await drain(sink, "slow", ingress.ok, 600_000);
  const after = await settled(eddy, "brokers", "slow", 600_000);
  return {
    events: ingress.ok, delivered: d.delivered, duplicates: d.duplicates, lost: d.lost, seconds: Math.round((performance.now() - t0) / 100) / 10,
    redispatched: after.counters.redispatched ?? 0, cost: perEvent(before, after, ingress.ok),
  };
}

export function renderSlow(s) {
  return [
    "",
    "| slow subscriber (3 s answers, PT5S timeout, retry 3) | events | delivered | duplicates | redispatched | lost | seconds |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    `| ${s.events} events posted at once | ${s.events} | ${s.delivered} | ${s.duplicates} | ${s.redispatched} | ${s.lost} | ${s.seconds} |`,
  ];
}
