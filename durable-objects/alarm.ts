/**
 * One Durable Object alarm shared by every timer of the object (due retries, lapsed leases, ping
 * ticks): each asks to be woken no later than some time, and the alarm is set to the earliest.
 * The alarm survives a crash of the runtime and fires after a restart, which is what makes it the
 * object's recovery path.
 *
 * @example
 * const clock = new AlarmClock(ctx.storage);
 * await clock.init();
 * clock.wakeAt(Date.now() + 5000);
 */
export class AlarmClock {
  private at: number | null = null;

  /** Alarms set (each `setAlarm` is billed as a row written). */
  sets = 0;

  constructor(private readonly storage: DurableObjectStorage) {}

  async init(): Promise<void> {
    this.at = await this.storage.getAlarm();
  }

  /** Call at the start of alarm(): the alarm that was set has fired. */
  fired(): void {
    this.at = null;
  }

  wakeAt(at: number): void {
    if (this.at !== null && this.at <= at) return;
    this.at = at;
    this.sets++;
    void this.storage.setAlarm(at);
  }
}
