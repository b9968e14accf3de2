// The in-memory half of the ledger's Timer (./ledger/contract.ts): pacing ticks for flow-controlled
// routes, which need to fire within milliseconds while the object lives. The durable half is the
// object's alarm (./alarm.ts), which is why this one may be lost with the object: the waits it
// paces stay in storage, and the alarm is their backstop.

/**
 * One in-memory timer at the earliest time asked for; the ledger's waits stay in storage regardless.
 *
 * @example
 * const pacing = new PacingTimer(() => void commits.run(() => ledger.tick(Date.now())).catch(() => {}));
 * pacing.soon(Date.now() + 250);
 */
export class PacingTimer {
  private soonAt: number | null = null;
  private soonTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly tick: () => void) {}

  soon(at: number): void {
    if (this.soonAt !== null && this.soonAt <= at) return;
    if (this.soonTimer) clearTimeout(this.soonTimer);
    this.soonAt = at;
    this.soonTimer = setTimeout(() => {
      this.soonAt = null;
      this.soonTimer = undefined;
      this.tick();
    }, Math.max(0, at - Date.now()));
  }
}
