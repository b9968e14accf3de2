import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openData, sealData } from "../../core/secrets/data.js";
import { open, seal, sealedWith, SecretKeyError, secretKeys } from "../../core/secrets/seal.js";
import { decodeSecretSource, encodeSecretSource, validateSecretSource } from "../../core/secrets/refs.js";
import { SecretBox } from "../../durable-objects/secret-box.js";
import { ApiError } from "../../core/errors.js";
import type { Resource } from "../../core/resources/types.js";

const key = () => randomBytes(32).toString("base64");
const enc = new TextEncoder();
const b64 = (s: string) => Buffer.from(s).toString("base64");
const secret = (data: Record<string, string>, extra: Record<string, unknown> = {}) =>
  ({ apiVersion: "v1", kind: "Secret", metadata: { name: "gh", namespace: "demo", uid: "u", generation: 1, resourceVersion: "1", creationTimestamp: "" }, type: "Opaque", data, ...extra }) as Resource;

describe("sealing", () => {
  it("opens only where it was sealed, and says which key sealed it", async () => {
    const keys = await secretKeys(key());
    const sealed = await seal(keys, enc.encode("hello"), "demo/gh/token");
    expect(sealed).toMatch(/^eddy:v1:[0-9a-f]{8}:/);
    expect(sealed).not.toContain(b64("hello"));
    expect(sealedWith(sealed)).toBe(keys.current.kid);
    expect(new TextDecoder().decode(await open(keys, sealed, "demo/gh/token"))).toBe("hello");
    await expect(open(keys, sealed, "other/gh/token")).rejects.toThrow(/copied from elsewhere/);
    await expect(open(await secretKeys(key()), sealed, "demo/gh/token")).rejects.toThrow(/no longer has: restore it as EDDY_SECRETS_KEY_PREVIOUS/);
  });

  it("names the fix for a missing, short or repeated key", async () => {
    await expect(secretKeys(undefined)).rejects.toThrow(/no EDDY_SECRETS_KEY/);
    await expect(secretKeys(Buffer.alloc(16).toString("base64"))).rejects.toThrow(/must be 32 bytes/);
    const k = key();
    await expect(secretKeys(k, k)).rejects.toBeInstanceOf(SecretKeyError);
  });

  it("rotates: values sealed with the previous key still open, and are sealed again under the new one", async () => {
    const [oldKey, newKey] = [key(), key()];
    const before = await secretKeys(oldKey);
    const stored = secret(await sealData(before, "demo", "gh", { token: b64("v1"), other: b64("v2") }));
    const box = new SecretBox({ EDDY_SECRETS_KEY: newKey, EDDY_SECRETS_KEY_PREVIOUS: oldKey });
    expect(await box.value("demo", stored, "token")).toBe("v1");
    const resealed = (await box.reseal("demo", stored))!;
    const after = await secretKeys(newKey);
    for (const v of Object.values(resealed.data as Record<string, string>)) expect(sealedWith(v)).toBe(after.current.kid);
    expect(await box.reseal("demo", resealed)).toBeUndefined();
    // Once the previous key is gone, the resealed values open with the new key alone.
    expect((await openData(after, "demo", "gh", resealed.data as Record<string, string>)).data).toEqual({ token: b64("v1"), other: b64("v2") });
    expect((await openData(after, "demo", "gh", stored.data as Record<string, string>)).lost).toEqual(["token", "other"]);
  });

  it("keeps an immutable Secret's values", async () => {
    const box = new SecretBox({ EDDY_SECRETS_KEY: key() });
    const old = await box.seal("demo", secret({ k: b64("a") }, { immutable: true }), undefined);
    await expect(box.seal("demo", secret({ k: b64("b") }, { immutable: true }), old)).rejects.toBeInstanceOf(ApiError);
    expect(await box.value("demo", await box.seal("demo", secret({ k: b64("a") }, { immutable: true }), old), "k")).toBe("a");
  });
});

describe("secret references", () => {
  it("name a Secret's key, or a binding under SECRET_ only", () => {
    expect(validateSecretSource({ secretKeyRef: { name: "github", key: "token" } }, "f")).toEqual([]);
    expect(validateSecretSource("SECRET_GITHUB", "f")).toEqual([]);
    for (const v of ["ADMIN_TOKEN", "EDDY_SIGNING_KEY", "EDDY_SECRETS_KEY", "GITHUB"]) expect(validateSecretSource(v, "f")[0]!.message).toContain("does not start with SECRET_");
    expect(validateSecretSource({ secretKeyRef: { name: "Bad_Name", key: "a b" } }, "f").map((e) => e.field)).toEqual(["f.secretKeyRef.name", "f.secretKeyRef.key"]);
    const src = { secretKeyRef: { name: "github", key: "token" }, version: "42" };
    expect(decodeSecretSource(encodeSecretSource(src))).toEqual(src);
    expect(decodeSecretSource("SECRET_X")).toEqual({ binding: "SECRET_X" });
  });
});
