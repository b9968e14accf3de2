// Retry-After on 429 and 503 is honoured without retryAfterMax (up to the default cap), and
// retryAfterMax: PT0S switches it off, as Knative's GA plan has it (knative/eventing#5811).
import { describe, expect, it } from "vitest";
import { apply, brokerObj, send, SINK, stats, triggerObj, uid, waitLog } from "./helpers.js";

const fastBackoff = { retry: 2, backoffPolicy: "exponential", backoffDelay: "PT0.1S" };

async function gapAfterRefusal(code: number, retryAfterSeconds: number, delivery: Record<string, unknown>): Promise<number> {
  const ns = uid("ns");
  await apply(brokerObj(ns, "default"), "brokers");
  const k = uid();
  await apply(triggerObj(ns, "t", "default", `${SINK}/retryafter/1/${code}/${retryAfterSeconds}/${k}`, { delivery }), "triggers");
  expect((await send(ns, "default", { specversion: "1.0", id: `ra-${code}`, source: "/s", type: "t" })).status).toBe(202);
  const [first, second] = await waitLog(k, 2, 20_000);
  await expect.poll(async () => (await stats(ns, "default")).counters).toMatchObject({ retried: 1, delivered: 1 });
  return second!.at - first!.at;
}

describe("Retry-After", () => {
  it("a 429 with Retry-After: 2 is retried after 2 s although the backoff says 0.1 s, with no retryAfterMax set", async () => {
    expect(await gapAfterRefusal(429, 2, fastBackoff)).toBeGreaterThanOrEqual(1900);
  });

  it("so is a 503", async () => {
    expect(await gapAfterRefusal(503, 2, fastBackoff)).toBeGreaterThanOrEqual(1900);
  });

  it("retryAfterMax: PT0S ignores the header and keeps the backoff", async () => {
    expect(await gapAfterRefusal(429, 10, { ...fastBackoff, retryAfterMax: "PT0S" })).toBeLessThan(5000);
  });
});
