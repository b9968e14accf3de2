/** Checks a Unix-seconds timestamp against a tolerance; null when fresh, else the reason. */
export function staleReason(raw: string | null | undefined, toleranceMs: number, now: number, header: string): string | null {
  if (!raw || !/^\d+$/.test(raw.trim())) return `missing or malformed ${header}: expected Unix seconds`;
  const skew = Math.abs(now - Number(raw.trim()) * 1000);
  if (skew > toleranceMs) {
    return `${header} ${raw.trim()} is ${Math.round(skew / 1000)} s away from now, beyond the ${Math.round(toleranceMs / 1000)} s tolerance (replayed or stale delivery, or a skewed clock)`;
  }
  return null;
}

export function unixToIso(raw: string | number | undefined | null): string | undefined {
  const n = typeof raw === "number" ? raw : Number(raw);
  return Number.isFinite(n) && n > 0 ? new Date(n * 1000).toISOString() : undefined;
}
