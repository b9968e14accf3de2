/** How a namespace's object keys a resource in its map and its `resources` table. */
export function keyOf(apiVersion: string, kind: string, name: string): string {
  return `${apiVersion}/${kind}/${name}`;
}

/** A random suffix for `metadata.generateName` (Kubernetes' alphabet: no vowels, no look-alikes). */
export function randomSuffix(): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  const bytes = crypto.getRandomValues(new Uint8Array(5));
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join("");
}
