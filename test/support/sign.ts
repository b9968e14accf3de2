// Signs webhook deliveries the way each provider documents it, with Node's crypto: an independent
// implementation to test Eddy's verifier against.
import { createHmac } from "node:crypto";

export const sign = {
  github(secret: string, body: string): string {
    return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  },
  stripe(secret: string, body: string, t: number): string {
    return `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;
  },
  slack(secret: string, body: string, ts: number): string {
    return `v0=${createHmac("sha256", secret).update(`v0:${ts}:${body}`).digest("hex")}`;
  },
  standard(secret: string, id: string, ts: number, body: string): string {
    const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
    return `v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`;
  },
};
