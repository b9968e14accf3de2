#!/usr/bin/env node
// Prints a new key for EDDY_SECRETS_KEY, which seals Secrets at rest: 32 random bytes in base64.
//   node scripts/secrets-key.mjs | npx wrangler secret put EDDY_SECRETS_KEY
// Locally `npm start` writes one to .dev.vars when there is none; docs/security.md says how to rotate it.
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

export function newSecretsKey() {
  return randomBytes(32).toString("base64");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(`${newSecretsKey()}\n`);
