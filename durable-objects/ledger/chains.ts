/**
 * The ordered chains of one object: for each (route, order key), how many of its deliveries are
 * unsettled and not blocked — the head, plus the reply hop a Subscription adds while the head is
 * still on its way. A chain's next delivery may go only when that count is 0.
 *
 * @example
 * const chains = new Chains();
 * if (chains.busy("t1", "order-42")) storeBlocked(); else { chains.enter("t1", "order-42"); send(); }
 */
export class Chains {
  private readonly active = new Map<string, number>();

  private static key(route: string, orderKey: string): string {
    return `${route}\n${orderKey}`;
  }

  reset(counts: { route: string; order_key: string; n: number }[]): void {
    this.active.clear();
    for (const c of counts) this.active.set(Chains.key(c.route, c.order_key), c.n);
  }

  busy(route: string, orderKey: string): boolean {
    return (this.active.get(Chains.key(route, orderKey)) ?? 0) > 0;
  }

  enter(route: string, orderKey: string): void {
    const k = Chains.key(route, orderKey);
    this.active.set(k, (this.active.get(k) ?? 0) + 1);
  }

  /** A delivery left the chain; returns true when the chain became idle (its next may go). */
  leave(route: string, orderKey: string): boolean {
    const k = Chains.key(route, orderKey);
    const n = (this.active.get(k) ?? 0) - 1;
    if (n > 0) {
      this.active.set(k, n);
      return false;
    }
    this.active.delete(k);
    return true;
  }

  clear(): void {
    this.active.clear();
  }
}
