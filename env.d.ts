// Lets `cloudflare:test` and `cloudflare:workers` see the Worker's bindings.
type EddyEnv = import("./durable-objects/env.js").Env;
declare namespace Cloudflare {
  interface Env extends EddyEnv {}
}
