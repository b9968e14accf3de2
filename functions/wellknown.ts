import { Hono } from "hono";
import type { Env } from "./env.js";
import { issuerOf, ringOf } from "./identity.js";

/** Where the public keys are served, at the path Kubernetes uses, so OIDC clients find them the same way. */
export const JWKS_PATH = "/openid/v1/jwks";

/**
 * Eddy as an OIDC issuer: the discovery document and the JWKS, public so subscribers can verify
 * the tokens on Eddy's deliveries (and producers' tokens can be checked anywhere). After a
 * rotation the JWKS lists the previous key too, until it is removed.
 */
export const wellKnown = new Hono<{ Bindings: Env }>();

const CACHE = { "Cache-Control": "public, max-age=60" };

wellKnown.get("/.well-known/openid-configuration", async (c) => {
  const issuer = issuerOf(c.env, c.req.url);
  const ring = await ringOf(c.env);
  return c.json({
    issuer,
    jwks_uri: `${issuer}${JWKS_PATH}`,
    response_types_supported: ["id_token"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: [...new Set(ring.jwks.keys.map((k) => k.alg as string))],
  }, 200, CACHE);
});

wellKnown.get(JWKS_PATH, async (c) => c.json((await ringOf(c.env)).jwks, 200, { ...CACHE, "Content-Type": "application/jwk-set+json" }));
