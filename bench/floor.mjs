// The bench's table of Eddy against the floor of its own contract (bench/durable-relay.js) and the
// relay Worker, from one run's results: how far the delivery targets are from what durability
// before the 202 and first attempts from the object (six connections) leave on this runtime.

/** Markdown lines of the floor table; `r` is the results object of bench/run.mjs. */
export function renderFloor(r) {
  const R = r.rows;
  const ratio = (a, b) => (b ? `${(a / b).toFixed(2)}×` : "n/a");
  const row = (name, eddy, floor, relay, unit = "delivery") =>
    `| ${name} | ${eddy[unit].eventsPerSec} | ${floor[unit].eventsPerSec} | ${relay[unit].eventsPerSec} | ${ratio(floor[unit].eventsPerSec, relay[unit].eventsPerSec)} | ${ratio(eddy[unit].eventsPerSec, floor[unit].eventsPerSec)} | ${floor.delivery.duplicates} / ${floor.delivery.lost} |`;
  const lines = [
    "",
    "| the contract's floor (events/s) | Eddy | durable relay (floor) | relay Worker | floor / relay | Eddy / floor | floor duplicates / lost |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    `| ingress accepted (1 delivery) | ${R.eddy1.ingress.eventsPerSec} | ${R.floor1.ingress.eventsPerSec} | ${R.noopIngress.eventsPerSec} (no-op Worker) | ${ratio(R.floor1.ingress.eventsPerSec, R.noopIngress.eventsPerSec)} | ${ratio(R.eddy1.ingress.eventsPerSec, R.floor1.ingress.eventsPerSec)} | |`,
    row("1 Trigger delivered", R.eddy1, R.floor1, R.relay1),
    row("10 Triggers delivered", R.eddy10, R.floor10, R.relay10),
  ];
  for (const f of r.fanout ?? []) if (f.floor) lines.push(row(`${f.subscriptions} Subscription(s) delivered`, f.eddy, f.floor, f.relay));
  return lines;
}
