// The Worker's bindings live beside the Durable Objects (durable-objects/env.ts), which must not
// import from functions/; the Worker's modules keep importing them from here.
export type { Env } from "../durable-objects/env.js";
export { dispatcherNamespace } from "../durable-objects/objects.js";
