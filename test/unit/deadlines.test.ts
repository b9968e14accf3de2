import { describe, expect, it, vi } from "vitest";
import { Deadlines } from "../../core/delivery/deadlines.js";

describe("attempt deadlines on one timer", () => {
  it("fires each deadline once, in time, not those stopped, and keeps no timer when none is left", () => {
    vi.useFakeTimers();
    try {
      const d = new Deadlines(() => Date.now());
      const t0 = Date.now();
      const fired: string[] = [];
      d.add(t0 + 100, () => fired.push("a"));
      const stopB = d.add(t0 + 50, () => fired.push("b"));
      d.add(t0 + 300, () => fired.push("c"));
      stopB();
      vi.advanceTimersByTime(99);
      expect(fired).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(fired).toEqual(["a"]);
      vi.advanceTimersByTime(200);
      expect(fired).toEqual(["a", "c"]);
      expect(d.size).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
