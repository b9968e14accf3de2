import { log } from "../log.js";

/** Knative's `default-authorization-mode`: who may send to an addressable no EventPolicy applies to. */
export type AuthorizationMode = "allow-same-namespace" | "allow-all" | "deny-all";
export const AUTHORIZATION_MODES: readonly AuthorizationMode[] = ["allow-same-namespace", "allow-all", "deny-all"];

/** Sender identity settings, from `wrangler.toml` [vars] (a `.dev.vars` entry overrides locally). */
export interface AuthSettings {
  /** `AUTHENTICATION_OIDC`: ingresses require a token, deliveries carry one. */
  oidc: boolean;
  /** `DEFAULT_AUTHORIZATION_MODE`. */
  defaultMode: AuthorizationMode;
}

export interface AuthVars {
  AUTHENTICATION_OIDC?: string;
  DEFAULT_AUTHORIZATION_MODE?: string;
}

export const DEFAULT_AUTH_SETTINGS: AuthSettings = { oidc: true, defaultMode: "allow-same-namespace" };

const warned = new Set<string>();

/**
 * The settings in force. A value Eddy does not know falls to the safe side — authentication on,
 * `deny-all` — and is logged once per isolate with the values that are accepted.
 *
 * @example
 * authSettings({ AUTHENTICATION_OIDC: "disabled" }); // { oidc: false, defaultMode: "allow-same-namespace" }
 */
export function authSettings(env: AuthVars): AuthSettings {
  const rawOidc = (env.AUTHENTICATION_OIDC ?? "").trim().toLowerCase();
  const rawMode = (env.DEFAULT_AUTHORIZATION_MODE ?? "").trim().toLowerCase();
  if (rawOidc !== "" && rawOidc !== "enabled" && rawOidc !== "disabled") {
    warnOnce(`AUTHENTICATION_OIDC=${rawOidc}`, 'AUTHENTICATION_OIDC must be "enabled" or "disabled"; authentication stays enabled');
  }
  let defaultMode = DEFAULT_AUTH_SETTINGS.defaultMode;
  if (rawMode !== "") {
    if ((AUTHORIZATION_MODES as readonly string[]).includes(rawMode)) defaultMode = rawMode as AuthorizationMode;
    else {
      defaultMode = "deny-all";
      warnOnce(`DEFAULT_AUTHORIZATION_MODE=${rawMode}`, `DEFAULT_AUTHORIZATION_MODE must be one of ${AUTHORIZATION_MODES.join(", ")}; using deny-all until it is fixed`);
    }
  }
  return { oidc: rawOidc !== "disabled", defaultMode };
}

function warnOnce(key: string, msg: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  log.error(msg, { setting: key });
}
