// Token verification cost without HTTP around it: what a request pays when its token is new to the
// isolate (signature checked), and when it is not (claims only), and what a delivery pays for its
// token. Pure TypeScript over core/identity: bench/auth.mjs bundles it with esbuild.
import { exportJWK, generateKeyPair } from "jose";
import { keyRing } from "../core/identity/keys.js";
import { deliveryToken, signToken, verifyToken } from "../core/identity/tokens.js";

async function perCall(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return ((performance.now() - t0) * 1000) / n;
}

/** Microseconds per call: a token's first verification, a cached one, and a delivery token from the cache. */
export async function tokenBench({ count = 500 }: { count?: number } = {}): Promise<{ firstVerifyUs: number; cachedVerifyUs: number; deliveryTokenUs: number }> {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const ring = await keyRing(JSON.stringify({ ...(await exportJWK(privateKey)), kid: "bench" }), undefined);
  const iss = "https://eddy.example";
  const aud = "eventing.knative.dev/broker/bench/auth";
  const now = Math.floor(Date.now() / 1000);
  const tokens = await Promise.all(Array.from({ length: count }, (_, i) => signToken(ring, { iss, sub: `system:serviceaccount:bench:p${i}`, aud, iat: now, exp: now + 3600 })));
  const want = { issuer: iss, audience: aud };
  const firstVerifyUs = await perCall(count, (i) => verifyToken(ring, tokens[i]!, want));
  const cachedVerifyUs = await perCall(count * 20, (i) => verifyToken(ring, tokens[i % count]!, want));
  await deliveryToken(ring, iss, "system:serviceaccount:bench:t", aud);
  const deliveryTokenUs = await perCall(count * 20, () => deliveryToken(ring, iss, "system:serviceaccount:bench:t", aud));
  const r = (x: number) => Math.round(x * 10) / 10;
  return { firstVerifyUs: r(firstVerifyUs), cachedVerifyUs: r(cachedVerifyUs), deliveryTokenUs: r(deliveryTokenUs) };
}
