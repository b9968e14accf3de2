import type { Client } from "../api.js";

/** What every view gets: the API client, a signal that fires when the user leaves the view. */
export interface Ctx {
  client: Client;
  signal: AbortSignal;
  go: (path: string, replace?: boolean) => void;
  main: HTMLElement;
}
