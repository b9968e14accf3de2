// `npm run bench` rows for the archive: ingress with archiving on against off (one Eddy, two
// Brokers alike but for `eddy.dev/archive-retention`, runs alternating, medians reported), and the
// rate of a Replay of the last archived run against the live delivery rate of the same Broker.

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {object} o
 * @param {{ url: string }} o.eddy
 * @param {(eddy: object, method: string, path: string, body?: unknown) => Promise<any>} o.api
 * @param {(eddy: object, name: string, n: number, sinkUrl: string, opts?: object) => Promise<string>} o.brokerWithTriggers
 * @param {(sink: object, url: string, tag: string) => Promise<{ ingressPerSec: number, deliveredPerSec: number, expected: number, duplicates: number, lost: number }>} o.throughput
 */
export async function archiveBench({ eddy, api, sink, brokerWithTriggers, throughput, rounds = 3, meter }) {
  const off = await brokerWithTriggers(eddy, "arch-off", 1, sink.url);
  const on = await brokerWithTriggers(eddy, "arch-on", 1, sink.url, { brokerAnnotations: { "eddy.dev/archive-retention": "P1D" } });
  const offRuns = [];
  const onRuns = [];
  let window;
  const onBefore = meter ? await meter.meterOf("arch-on") : undefined;
  for (let i = 0; i < rounds; i++) {
    offRuns.push(await throughput(sink, off, `arch-off-${i}`));
    const from = Date.now();
    onRuns.push(await throughput(sink, on, `arch-on-${i}`));
    window = { from, to: Date.now(), tag: `arch-on-${i}`, events: onRuns.at(-1).expected };
  }

  // Replay the last archived run to a Trigger of its own (its own sink path, so arrivals count apart).
  await sleep(2500); // the archive writes about once a second
  const onEvents = onRuns.reduce((n, r) => n + r.expected, 0);
  const onAfter = meter ? await meter.settled("arch-on") : undefined;
  await api(eddy, "PUT", "/apis/eventing.knative.dev/v1/namespaces/bench/triggers/arch-on-replay", {
    apiVersion: "eventing.knative.dev/v1", kind: "Trigger", metadata: { name: "arch-on-replay" },
    spec: { broker: "arch-on", subscriber: { uri: `${sink.url}rp/` }, filter: { attributes: { type: "dev.eddy.bench" } } },
  });
  const run = sink.runs.get(window.tag);
  const before = run.seen.size;
  const replayBefore = meter ? await meter.meterOf("arch-on") : undefined;
  const t0 = performance.now();
  await api(eddy, "PUT", "/apis/eventing.eddy.dev/v1alpha1/namespaces/bench/replays/arch-bench", {
    apiVersion: "eventing.eddy.dev/v1alpha1", kind: "Replay", metadata: { name: "arch-bench" },
    spec: { broker: "arch-on", trigger: "arch-on-replay", from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString() },
  });
  // Every event Eddy accepted in the window is replayed, including those a closed loop's last
  // requests got accepted after the load generator stopped counting: wait for status.replayed.
  const until = Date.now() + 180_000;
  let status;
  for (;;) {
    status = (await api(eddy, "GET", "/apis/eventing.eddy.dev/v1alpha1/namespaces/bench/replays/arch-bench")).status;
    const done = status?.conditions?.[0]?.status !== "Unknown";
    if ((done && run.seen.size - before >= (status.replayed ?? 0)) || Date.now() > until) break;
    await sleep(20);
  }
  const arrived = run.seen.size - before;
  const seconds = (run.last - t0) / 1000;
  const replayAfter = meter ? await meter.settled("arch-on") : undefined;
  return {
    rounds,
    off: { ingressPerSec: median(offRuns.map((r) => r.ingressPerSec)), deliveredPerSec: median(offRuns.map((r) => r.deliveredPerSec)) },
    on: { ingressPerSec: median(onRuns.map((r) => r.ingressPerSec)), deliveredPerSec: median(onRuns.map((r) => r.deliveredPerSec)) },
    duplicates: [...offRuns, ...onRuns].reduce((n, r) => n + r.duplicates, 0),
    lost: [...offRuns, ...onRuns].reduce((n, r) => n + r.lost, 0),
    replay: {
      events: window.events, arrived, replayed: status?.replayed ?? null, succeeded: status?.conditions?.[0]?.status ?? null,
      perSec: Math.round((arrived / seconds) * 10) / 10,
    },
    ...(meter ? {
      onCost: { events: onEvents, cost: meter.perEvent(onBefore, onAfter, onEvents) },
      replayCost: { events: status?.replayed ?? arrived, cost: meter.perEvent(replayBefore, replayAfter, Math.max(1, status?.replayed ?? arrived), { postsPerEvent: 0 }) },
    } : {}),
  };
}

export function renderArchive(a) {
  const ratio = (x, y) => (y ? `${(x / y).toFixed(2)}×` : "n/a");
  return [
    "",
    `| archive (1 Trigger, median of ${a.rounds} alternating runs) | archive off | archive on | on / off |`,
    "| --- | --- | --- | --- |",
    `| ingress accepted events/s | ${a.off.ingressPerSec} | ${a.on.ingressPerSec} | ${ratio(a.on.ingressPerSec, a.off.ingressPerSec)} |`,
    `| delivered events/s | ${a.off.deliveredPerSec} | ${a.on.deliveredPerSec} | ${ratio(a.on.deliveredPerSec, a.off.deliveredPerSec)} |`,
    `| duplicates / lost | ${a.duplicates} / ${a.lost} | | |`,
    "",
    "| replay of the last archived run | events | arrived | status.replayed | events/s | vs live delivery (archive on) |",
    "| --- | --- | --- | --- | --- | --- |",
    `| Replay to a Trigger of its own | ${a.replay.events} | ${a.replay.arrived} | ${a.replay.replayed} (Succeeded ${a.replay.succeeded}) | ${a.replay.perSec} | ${ratio(a.replay.perSec, a.on.deliveredPerSec)} |`,
  ];
}
