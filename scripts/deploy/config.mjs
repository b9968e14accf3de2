// What `npm run deploy` reads from wrangler.toml: the Worker, queues and bucket of an environment,
// and the [env.NAME] block for an environment wrangler.toml does not define yet.
import { readFileSync } from "node:fs";
import { parse, stringify } from "smol-toml";

/** wrangler.toml as data. */
export function readConfig(path) {
  return parse(readFileSync(path, "utf8"));
}

/**
 * The settings of environment `name` as wrangler environments need them: wrangler does not inherit
 * vars, Durable Object bindings, R2 buckets or queues, so each is repeated, with the queue and
 * bucket names suffixed by the environment (a queue has one consumer Worker, so two deployments
 * cannot share one). Migrations, triggers, assets and the rest are inherited.
 */
export function envSettings(raw, name) {
  const rename = (q) => `${q}-${name}`;
  const queues = raw.queues ?? {};
  return {
    ...(raw.vars ? { vars: { ...raw.vars } } : {}),
    ...(raw.durable_objects ? { durable_objects: structuredClone(raw.durable_objects) } : {}),
    ...(raw.r2_buckets ? { r2_buckets: raw.r2_buckets.map((b) => ({ ...b, bucket_name: rename(b.bucket_name) })) } : {}),
    queues: {
      ...(queues.producers ? { producers: queues.producers.map((p) => ({ ...p, queue: rename(p.queue) })) } : {}),
      ...(queues.consumers ? { consumers: queues.consumers.map((c) => ({ ...c, queue: rename(c.queue) })) } : {}),
    },
  };
}

/** The TOML block defining environment `name`, to append to wrangler.toml. */
export function envBlock(raw, name) {
  return `\n# Environment "${name}", written by \`npm run deploy -- --env ${name}\` from the settings above: its own\n# Worker (${raw.name}-${name}), queues and bucket. Keep it in step with the top level when that changes.\n${stringify({ env: { [name]: envSettings(raw, name) } })}\n`;
}

/** A valid environment name: what wrangler accepts in a Worker name after "<name>-". */
export function checkEnvName(name) {
  if (!/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(name)) {
    throw new Error(`--env "${name}" is not an environment name: lower-case letters, digits and '-', at most 32 characters`);
  }
  return name;
}

/**
 * What one deployment is made of: the Worker's name, its queues and its R2 bucket, for the top
 * level (`env` undefined) or an environment; `defined` says whether wrangler.toml has that
 * environment (when not, its settings are derived as envSettings does).
 */
export function deploymentOf(raw, env) {
  const own = env ? raw.env?.[env] : raw;
  const settings = own ?? envSettings(raw, env);
  const queues = [...new Set([...(settings.queues?.producers ?? []), ...(settings.queues?.consumers ?? [])].map((q) => q.queue))];
  const bucket = (settings.r2_buckets ?? [])[0];
  return {
    env,
    defined: own !== undefined,
    worker: env ? (own?.name ?? `${raw.name}-${env}`) : raw.name,
    queues,
    bucket: bucket ? { name: bucket.bucket_name, ...(bucket.jurisdiction ? { jurisdiction: bucket.jurisdiction } : {}) } : undefined,
  };
}
