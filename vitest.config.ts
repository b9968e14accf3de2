import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { createRequire } from "node:module";
import { newSigningKey } from "./scripts/signing-key.mjs";
import { newSecretsKey } from "./scripts/secrets-key.mjs";

const require = createRequire(import.meta.url);

/**
 * Sender identity for the workers tests: a current signing key and a previous one (as after a
 * rotation), and a Standard Webhooks secret for signed deliveries. Fresh each run.
 */
const IDENTITY = {
  EDDY_SIGNING_KEY: JSON.stringify(newSigningKey("ES256")),
  EDDY_SIGNING_KEY_PREVIOUS: JSON.stringify(newSigningKey("RS256")),
  SECRET_TEST_SIGNING_SECRET: "whsec_ZWRkeS13b3JrZXJzLXNpZ25pbmctc2VjcmV0LTAx",
  EDDY_SECRETS_KEY: newSecretsKey(),
  // The webhook tests sign with it; a resource may name only SECRET_ bindings (never ADMIN_TOKEN).
  SECRET_TEST_WEBHOOK: "test-token",
  // Low, so test/workers/eventtypes.test.ts reaches it with a few events.
  EVENTTYPE_AUTO_CREATE_LIMIT: "12",
};

export default defineConfig({
  test: {
    reporters: process.env.CI ? ["default", "json"] : ["default"],
    outputFile: { json: "vt.json" },
    projects: [
      {
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: "./functions/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            // A tiny in-flight window so every test here also exercises the ledger's backpressure.
            // FUZZ_RUNS reaches the fuzz suites as a binding: code inside workerd cannot read process.env.
            // A small RequestReply cap, so a test can reach it (test/workers/request-reply.test.ts).
            miniflare: { bindings: { ADMIN_TOKEN: "test-token", MAX_IN_FLIGHT: "3", WATCH_HISTORY: "40", REQUEST_REPLY_MAX_WAITING: "4", DESTINATION_POLICY: "public-and-loopback", SINK_URL: inject("sinkUrl"), FUZZ_RUNS: process.env.FUZZ_RUNS ?? "", ...IDENTITY } },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          globalSetup: ["test/workers/global-sink.ts"],
          testTimeout: 30_000,
          expect: { poll: { timeout: 15_000, interval: 50 } },
        },
      },
      {
        // The cloudevents SDK requires uuid's CommonJS build under Node too.
        resolve: { alias: { uuid: require.resolve("uuid") } },
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/support/global-platform.ts"],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          expect: { poll: { timeout: 15_000, interval: 50 } },
        },
      },
    ],
  },
});
