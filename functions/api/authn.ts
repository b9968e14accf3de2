import { ApiError } from "../../core/errors.js";
import { SERVICE_ACCOUNT_PREFIX } from "../../core/identity/names.js";
import { looksLikeJwt, verifyToken } from "../../core/identity/tokens.js";
import { ADMIN_USER, type UserInfo } from "../../core/rbac/types.js";
import type { Env } from "../env.js";
import { isAdmin, issuerOf, ringOf } from "../identity.js";

const PROTOCOL = "base64url.bearer.authorization.k8s.io.";
const CHALLENGE = { "WWW-Authenticate": 'Bearer realm="eddy"' };
const INVALID = { "WWW-Authenticate": 'Bearer realm="eddy", error="invalid_token"' };
const HOW = "send `Authorization: Bearer <token>` with the ADMIN_TOKEN (in .dev.vars locally), or a ServiceAccount's token for the API (`kubectl create token NAME`, no --audience)";

/**
 * Who is calling the control-plane API, as Kubernetes' authenticators decide it: the ADMIN_TOKEN is
 * `eddy:admin` in `system:masters` (cluster-admin); a token Eddy signed for the API's audience (the
 * issuer, which a TokenRequest without audiences gets) is its ServiceAccount, with the groups
 * Kubernetes gives ServiceAccounts. Anything else is a 401 saying why. Browsers cannot set headers
 * on a WebSocket, so the token may also come as the subprotocol `base64url.bearer.authorization.k8s.io.<token>`.
 *
 * @example
 * const user = await authenticateApi(c.env, c.req.raw); // { username: "system:serviceaccount:demo:reader", groups: [...] }
 */
export async function authenticateApi(env: Env, req: Request): Promise<UserInfo> {
  if (!env.ADMIN_TOKEN) {
    throw new ApiError(500, "the control plane has no ADMIN_TOKEN: set it with `wrangler secret put ADMIN_TOKEN` (or in .dev.vars locally)");
  }
  const header = req.headers.get("authorization") ?? fromSubprotocol(req.headers.get("sec-websocket-protocol"));
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!m) throw new ApiError(401, `missing bearer token: ${HOW}`, [], {}, CHALLENGE);
  const token = m[1]!;
  if (await isAdmin(token, env.ADMIN_TOKEN)) return ADMIN_USER;
  if (!looksLikeJwt(token)) throw new ApiError(401, `wrong bearer token: ${HOW}`, [], {}, INVALID);
  const issuer = issuerOf(env, req.url);
  const v = await verifyToken(await ringOf(env), token, { issuer, audience: issuer });
  if (!v.ok) {
    const why = v.reason.includes("not for") ? `${v.reason.replace(/: request one with .*$/, "")}: a token for an addressable sends events; the API takes tokens for its own audience (${issuer}), which \`kubectl create token NAME\` gives` : v.reason;
    throw new ApiError(401, `the token is not accepted by the API: ${why}`, [], {}, INVALID);
  }
  return serviceAccountUser(v.subject);
}

/** The user of a ServiceAccount subject (`system:serviceaccount:{ns}:{name}`), with its groups. */
export function serviceAccountUser(subject: string): UserInfo {
  const [ns] = subject.startsWith(SERVICE_ACCOUNT_PREFIX) ? subject.slice(SERVICE_ACCOUNT_PREFIX.length).split(":") : [];
  return {
    username: subject,
    groups: ns ? ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"] : ["system:authenticated"],
  };
}

function fromSubprotocol(protocols: string | null): string | null {
  const p = protocols?.split(",").map((x) => x.trim()).find((x) => x.startsWith(PROTOCOL));
  if (!p) return null;
  try {
    const b64 = p.slice(PROTOCOL.length).replaceAll("-", "+").replaceAll("_", "/");
    return `Bearer ${atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4))}`;
  } catch {
    return null;
  }
}

/**
 * `Impersonate-User` / `Impersonate-Group` (kubectl `--as`, `--as-group`): the request runs as that
 * user once the caller may `impersonate` it (users, groups, or the ServiceAccount itself), as the
 * Kubernetes API server allows. Returns the checks to make and the user to become, or undefined.
 */
export function impersonation(req: Request): { checks: { resource: string; name: string; namespace: string }[]; user: UserInfo } | undefined {
  const user = req.headers.get("impersonate-user");
  const groups = (req.headers.get("impersonate-group") ?? "").split(",").map((g) => g.trim()).filter(Boolean);
  if (!user) {
    if (groups.length) throw new ApiError(400, "Impersonate-Group needs Impersonate-User: say who to act as (kubectl --as USER --as-group GROUP)");
    return undefined;
  }
  const checks: { resource: string; name: string; namespace: string }[] = [];
  let info: UserInfo;
  if (user.startsWith(SERVICE_ACCOUNT_PREFIX)) {
    const [ns = "", name = ""] = user.slice(SERVICE_ACCOUNT_PREFIX.length).split(":");
    checks.push({ resource: "serviceaccounts", name, namespace: ns });
    info = serviceAccountUser(user);
  } else {
    checks.push({ resource: "users", name: user, namespace: "" });
    info = { username: user, groups: ["system:authenticated"] };
  }
  for (const g of groups) checks.push({ resource: "groups", name: g, namespace: "" });
  return { checks, user: { ...info, groups: [...new Set([...groups, ...info.groups])] } };
}
