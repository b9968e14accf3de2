// Vitest globalSetup for the e2e project: one platform started with `npm start` for all e2e files.
import type { TestProject } from "vitest/node";
import { startPlatform } from "./platform.js";

declare module "vitest" {
  export interface ProvidedContext {
    platform: { url: string; token: string; port: number; persistDir: string };
  }
}

export default async function setup(project: TestProject) {
  const p = await startPlatform();
  project.provide("platform", { url: p.url, token: p.token, port: p.port, persistDir: p.persistDir });
  return async () => {
    await p.stop();
  };
}
