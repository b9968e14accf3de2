// Vitest globalSetup for the e2e project: one platform started with `npm start` for all e2e files.
import type { TestProject } from "vitest/node";
import { startPlatform } from "./platform.js";

declare module "vitest" {
  export interface ProvidedContext {
    platform: { url: string; token: string; port: number; persistDir: string };
  }
}

/** Signing secrets the e2e webhook tests use, given to the platform as vars (as .dev.vars would). */
export const TEST_SECRETS = {
  SECRET_TEST_GITHUB_SECRET: "gh-test-secret",
  SECRET_TEST_GITHUB_SECRET_NEXT: "gh-rotated-secret",
  SECRET_TEST_STRIPE_SECRET: "whsec_stripe_test_secret",
  SECRET_TEST_SLACK_SECRET: "slack-signing-secret",
  // A Svix / Standard Webhooks endpoint secret: whsec_ and the base64 of the HMAC key.
  SECRET_TEST_SVIX_SECRET: "whsec_ZWRkeS1lMmUtc3ZpeC1zaWduaW5nLWtleS0wMQ==",
};

export default async function setup(project: TestProject) {
  const p = await startPlatform({ extraArgs: Object.entries(TEST_SECRETS).flatMap(([k, v]) => ["--var", `${k}:${v}`]) });
  project.provide("platform", { url: p.url, token: p.token, port: p.port, persistDir: p.persistDir });
  return async () => {
    await p.stop();
  };
}
