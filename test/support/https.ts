// A POST to a platform started with `npm start -- --https` (a self-signed certificate, made on this machine).
import { request } from "node:https";

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** POSTs `body` to `url`, trusting the local self-signed certificate; resolves with the whole answer. */
export function httpsPost(url: string, headers: Record<string, string>, body: string): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) h[k] = Array.isArray(v) ? v.join(", ") : String(v ?? "");
        resolve({ status: res.statusCode ?? 0, headers: h, body: Buffer.concat(chunks).toString() });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
