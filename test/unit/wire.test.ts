// Queue messages as bytes: what a consumer reads back is what the object sent, and sizes are bytes,
// so attributes in any script count what they weigh on the wire.
import { describe, expect, it } from "vitest";
import type { DeliveryMessage } from "../../core/delivery/messages.js";
import { decodeMessage, encodeMessage, MESSAGE_MARGIN_BYTES, QUEUE_MESSAGE_BYTES, wireMessage } from "../../core/delivery/wire.js";

const spec: DeliveryMessage = {
  owner: { binding: "BROKER", name: "demo/default" }, epoch: 3, id: 7, gen: 9, hop: "subscriber", attempt: 1, url: "https://sink.example/",
  internal: false, format: "binary", timeoutMs: 5000, namespace: "demo", route: "uid-1",
};

describe("queue message bytes", () => {
  it("round-trips the attempt and the event exactly: typed attributes, data bytes, implied JSON", () => {
    const event = { attrs: { specversion: "1.0", id: "ü", source: "/ソース", type: "t", n: 3, b: false }, data: new Uint8Array([0, 1, 255]), impliedJson: true };
    expect(decodeMessage(encodeMessage({ ...spec, event }))).toEqual({ ...spec, event });
    expect(decodeMessage(encodeMessage({ ...spec, event: { attrs: event.attrs } }))).toEqual({ ...spec, event: { attrs: event.attrs } });
  });

  it("measures attributes in bytes: 60,000 characters of CJK are 180,000 bytes, too many to ride along", () => {
    const big = "字".repeat(60_000);
    const msg = { ...spec, event: { attrs: { specversion: "1.0", id: "x", source: "/s", type: "t", subject: big } } };
    // Counted in characters this would fit in 128 KB; in bytes it does not.
    expect(big.length).toBeLessThan(QUEUE_MESSAGE_BYTES);
    expect(encodeMessage(msg).byteLength).toBeGreaterThan(QUEUE_MESSAGE_BYTES);
    const wire = wireMessage(msg);
    expect(wire.byteLength).toBeLessThanOrEqual(QUEUE_MESSAGE_BYTES - MESSAGE_MARGIN_BYTES);
    expect(decodeMessage(wire).event).toBeUndefined(); // the consumer claims it from the owner
  });

  it("keeps an event that fits inside its message", () => {
    const msg = { ...spec, event: { attrs: { specversion: "1.0", id: "x", source: "/s", type: "t" }, data: new Uint8Array(100_000) } };
    expect(decodeMessage(wireMessage(msg)).event?.data?.byteLength).toBe(100_000);
  });

  it("reads a message sent before bytes (a structured-clone object) as it is, and refuses bytes of another shape", () => {
    expect(decodeMessage(spec)).toBe(spec);
    expect(() => decodeMessage(new Uint8Array([1, 2, 3]))).toThrow(/not a delivery message/);
  });
});
