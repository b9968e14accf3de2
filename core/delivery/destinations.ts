import { log } from "../log.js";
import { redactUrl } from "../redact.js";

/**
 * `DESTINATION_POLICY`: which addresses deliveries may go to. Eddy's subscribers answer with bodies
 * that end up in `knativeerrordata`, so on a self-hosted workerd (or `wrangler dev` on a shared
 * host) a Trigger pointed at a private address could read internal endpoints.
 *
 * - `public-only` (the default in wrangler.toml): refuse loopback, link-local, private, shared
 *   (CGNAT), unique-local and unspecified addresses, and `localhost`;
 * - `public-and-loopback` (what `npm start` sets): the same, but loopback is allowed, so local
 *   subscribers work;
 * - `allow-all`: any http(s) destination.
 *
 * Host names other than `localhost` are not resolved (Workers have no DNS API): a public name that
 * resolves to a private address is not caught here; the host's network policy must stop it.
 */
export type DestinationPolicy = "public-only" | "public-and-loopback" | "allow-all";
export const DESTINATION_POLICIES: readonly DestinationPolicy[] = ["public-only", "public-and-loopback", "allow-all"];

const warned = new Set<string>();

/** The policy in force; an unknown value falls to `public-only`, logged once per isolate. */
export function destinationPolicy(env: { DESTINATION_POLICY?: string }): DestinationPolicy {
  const raw = (env.DESTINATION_POLICY ?? "").trim().toLowerCase();
  if (raw === "") return "public-only";
  if ((DESTINATION_POLICIES as readonly string[]).includes(raw)) return raw as DestinationPolicy;
  if (!warned.has(raw)) {
    warned.add(raw);
    log.error(`DESTINATION_POLICY must be one of ${DESTINATION_POLICIES.join(", ")}; using public-only until it is fixed`, { setting: `DESTINATION_POLICY=${raw}` });
  }
  return "public-only";
}

/** What kind of address a URL's host is. */
export type AddressClass = "public" | "loopback" | "link-local" | "private" | "unspecified";

/**
 * The class of a URL's host. IP literals in any form the URL parser accepts (`http://2130706433/`
 * is 127.0.0.1, IPv4-mapped IPv6 counts as its IPv4 address); `localhost` and `*.localhost` are
 * loopback; any other name is public.
 */
export function addressClass(url: URL): AddressClass {
  const host = url.hostname.toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return "loopback";
  const v4 = ipv4(host);
  if (v4) return classV4(v4);
  if (host.startsWith("[") && host.endsWith("]")) {
    const v6 = ipv6(host.slice(1, -1));
    if (v6) return classV6(v6);
  }
  return "public";
}

/**
 * Why `url` may not be a destination under `policy`, naming the setting and the fix; undefined when
 * it may. The URL in the message is redacted (it may carry a secret).
 *
 * @example
 * refusal("http://10.0.0.5/hook", "public-only"); // "http://10.0.0.5/hook is a private address, ..."
 */
export function refusal(url: string, policy: DestinationPolicy): string | undefined {
  if (policy === "allow-all") return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined; // admission refuses what does not parse; nothing to judge here
  }
  const cls = addressClass(u);
  if (cls === "public" || (cls === "loopback" && policy === "public-and-loopback")) return undefined;
  const allow = cls === "loopback" ? "public-and-loopback or allow-all" : "allow-all";
  return `${redactUrl(url)} is a ${cls} address, which DESTINATION_POLICY=${policy} refuses (deliveries there could read internal endpoints); use a public address, or set DESTINATION_POLICY to ${allow} if this deployment may reach it`;
}

function ipv4(host: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : undefined;
}

function classV4([a, b]: number[]): AddressClass {
  if (a === 127) return "loopback";
  if (a === 0) return "unspecified";
  if (a === 169 && b === 254) return "link-local";
  if (a === 10 || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168) || (a === 100 && b! >= 64 && b! <= 127)) return "private";
  return "public";
}

/** The eight 16-bit groups of an IPv6 address (the URL parser has already normalised it). */
function ipv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const part = (s: string) => (s === "" ? [] : s.split(":"));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const groups = [...head, ...Array(8 - head.length - tail.length).fill("0"), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
}

function classV6(g: number[]): AddressClass {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(8)) return "unspecified";
  if (zeroUpTo(7) && g[7] === 1) return "loopback";
  // IPv4-mapped (::ffff:a.b.c.d): the IPv4 address decides.
  if (zeroUpTo(5) && g[5] === 0xffff) return classV4([g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff]);
  if ((g[0]! & 0xffc0) === 0xfe80) return "link-local";
  if ((g[0]! & 0xfe00) === 0xfc00) return "private";
  return "public";
}
