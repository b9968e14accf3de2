import { base64ToBytes, concat, hexToBytes, hmacMatches, sha256Hex } from "./crypto.js";
import { staleReason, unixToIso } from "./timestamp.js";
import type { Provider } from "./types.js";

/**
 * Any provider that signs with an HMAC in one header (`spec.genericHmac`): algorithm, hex or base64,
 * an optional prefix, and optionally a timestamp header (signed as `<timestamp>.<body>` and checked
 * against the tolerance). The delivery id comes from `idHeader`, else from the signature itself, so
 * an exact replay is still deduplicated.
 */
export const genericHmac: Provider = {
  async verify(req, keys, cfg) {
    const g = cfg.genericHmac!;
    const h = req.headers.get(g.header);
    if (!h) return `missing ${g.header}: the sender must put its HMAC signature of the body in that header (spec.genericHmac.header)`;
    const prefix = g.prefix ?? "";
    if (!h.startsWith(prefix)) return `${g.header} must start with "${prefix}"`;
    const raw = h.slice(prefix.length).trim();
    const sig = (g.encoding ?? "hex") === "hex" ? hexToBytes(raw) : base64ToBytes(raw);
    if (!sig) return `${g.header} is not ${g.encoding ?? "hex"}: send the ${g.algorithm ?? "sha256"} HMAC of the body in ${g.encoding ?? "hex"}${prefix ? ` after "${prefix}"` : ""}`;
    let data = req.body;
    if (g.timestampHeader) {
      const ts = req.headers.get(g.timestampHeader);
      const stale = staleReason(ts, cfg.toleranceMs, req.now, g.timestampHeader);
      if (stale) return stale;
      data = concat(`${ts!.trim()}.`, req.body);
    }
    return (await hmacMatches(g.algorithm ?? "sha256", keys, data, sig)) ? null : `${g.header} does not match under any configured secret`;
  },
  async describe(req, _json, cfg) {
    const g = cfg.genericHmac!;
    const id = (g.idHeader && req.headers.get(g.idHeader)) || (await sha256Hex(req.headers.get(g.header) ?? "")).slice(0, 32);
    const time = g.timestampHeader ? unixToIso(req.headers.get(g.timestampHeader)) : undefined;
    return { type: g.type ?? "dev.eddy.webhook", id, source: cfg.eventSource, ...(time ? { time } : {}) };
  },
};
