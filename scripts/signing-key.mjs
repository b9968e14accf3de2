#!/usr/bin/env node
// Prints a new private signing key for Eddy's tokens, as one line of JSON (a JWK with a kid):
//   node scripts/signing-key.mjs            ES256 (P-256), the default
//   node scripts/signing-key.mjs --rs256    RS256 (2048-bit RSA)
// Production: node scripts/signing-key.mjs | npx wrangler secret put EDDY_SIGNING_KEY
// Locally `npm start` writes one to .dev.vars when there is none.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

/** A fresh private JWK with `alg`, `use` and a dated `kid`, so a rotation can tell keys apart. */
export function newSigningKey(alg = "ES256") {
  const { privateKey } = alg === "RS256"
    ? generateKeyPairSync("rsa", { modulusLength: 2048 })
    : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const kid = `${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString("hex")}`;
  return { ...privateKey.export({ format: "jwk" }), alg, use: "sig", kid };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(newSigningKey(process.argv.includes("--rs256") ? "RS256" : "ES256")) + "\n");
}
