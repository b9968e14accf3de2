import { describe, expect, it } from "vitest";
import { newSigningKey } from "../../scripts/signing-key.mjs";
import { correlationKeys, knVerifyCorrelationId, newToken, parseCorrelationId, signCorrelationId, useCorrelationKeys, verifyCorrelationId } from "../../core/requestreply/correlation.js";
import { compileTriggerFilter } from "../../core/filters/index.js";
import { checkCesql } from "../../core/filters/cesql.js";
import { eventView } from "../../core/cloudevents/view.js";

const A = JSON.stringify(newSigningKey("ES256"));
const B = JSON.stringify(newSigningKey("RS256"));
const rr = { namespace: "demo", name: "example" };

describe("correlation ids", () => {
  it("verify for the RequestReply and shard they were made for, and for nothing else", () => {
    const keys = correlationKeys(A, undefined)!;
    const token = newToken();
    const id = signCorrelationId(keys, rr, 2, token);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{22}:2$/);
    expect(verifyCorrelationId(keys, id, rr)).toEqual({ token, shard: 2 });
    expect(verifyCorrelationId(keys, id, { namespace: "demo", name: "other" })).toBeUndefined();
    expect(verifyCorrelationId(keys, id, { namespace: "other", name: "example" })).toBeUndefined();
    expect(verifyCorrelationId(keys, id.replace(/:2$/, ":3"), rr)).toBeUndefined(); // the shard is signed too
    const [t, mac] = id.split(":") as [string, string];
    expect(verifyCorrelationId(keys, `${t}:${mac.slice(0, -1)}${mac.endsWith("A") ? "B" : "A"}:2`, rr)).toBeUndefined();
    expect(verifyCorrelationId(keys, `${newToken()}:${mac}:2`, rr)).toBeUndefined();
    for (const junk of ["", "a:b", "a:b:c", "a:b:1:2", 7, undefined, `${"x".repeat(300)}:y:0`]) expect(verifyCorrelationId(keys, junk, rr)).toBeUndefined();
  });

  it("rotate with the signing key: made with the current key, accepted with the previous one after a rotation, not after two", () => {
    const before = correlationKeys(A, undefined)!;
    const id = signCorrelationId(before, rr, 0, newToken());
    expect(verifyCorrelationId(correlationKeys(B, A), id, rr)).toBeDefined();
    expect(verifyCorrelationId(correlationKeys(B, undefined), id, rr)).toBeUndefined();
    expect(signCorrelationId(correlationKeys(B, A)!, rr, 0, "tok")).toBe(signCorrelationId(correlationKeys(B, undefined)!, rr, 0, "tok"));
  });

  it("need a private JWK as the current key", () => {
    expect(correlationKeys(undefined, A)).toBeUndefined();
    expect(correlationKeys("not json", undefined)).toBeUndefined();
    const pub = JSON.parse(A) as Record<string, unknown>;
    delete pub.d;
    expect(correlationKeys(JSON.stringify(pub), undefined)).toBeUndefined();
  });

  it("parse into Knative's three parts", () => {
    expect(parseCorrelationId("abc:def:12")).toEqual({ token: "abc", mac: "def", shard: 12 });
  });
});

describe("KN_VERIFY_CORRELATION_ID in CESQL", () => {
  const filter = (attr: string, replica: number, replicas: number) =>
    ({ filters: [{ cesql: `KN_VERIFY_CORRELATION_ID(${attr}, "example", "demo", "request-reply-keys", ${replica}, ${replicas})` }] });
  const event = (extra: Record<string, string>) => eventView({ attrs: { specversion: "1.0", id: "r1", source: "/s", type: "t", ...extra } });

  it("is a function admission accepts, as Knative's webhook does", () => {
    expect(checkCesql(filter("replyid", 0, 1).filters[0]!.cesql, "spec.filters[0].cesql").errors).toEqual([]);
  });

  it("passes ids this deployment signed for that RequestReply and replica, and nothing else", () => {
    useCorrelationKeys({ EDDY_SIGNING_KEY: B, EDDY_SIGNING_KEY_PREVIOUS: A });
    const keys = correlationKeys(B, A)!;
    const id1 = signCorrelationId(keys, rr, 1, newToken());
    const f = compileTriggerFilter(filter("replyid", 1, 3));
    expect(f.matches(event({ replyid: id1 }))).toBe(true);
    expect(f.matches(event({ replyid: signCorrelationId(correlationKeys(A, undefined)!, rr, 1, newToken()) }))).toBe(true); // the previous key
    expect(f.matches(event({ replyid: id1.replace(/^./, (c) => (c === "a" ? "b" : "a")) }))).toBe(false); // forged
    expect(f.matches(event({ correlationid: id1 }))).toBe(false); // no reply attribute
    expect(compileTriggerFilter(filter("replyid", 0, 3)).matches(event({ replyid: id1 }))).toBe(false); // another replica's
    expect(knVerifyCorrelationId(keys, signCorrelationId(keys, rr, 4, "t"), "example", "demo", 1, 3)).toBe(true); // 4 % 3
    expect(knVerifyCorrelationId(keys, signCorrelationId(keys, rr, 0, "t"), "example", "demo", 0, 0)).toBe(false);
  });

  it("fails every id where no keys were installed", () => {
    useCorrelationKeys({});
    const id = signCorrelationId(correlationKeys(A, undefined)!, rr, 0, newToken());
    expect(compileTriggerFilter(filter("replyid", 0, 1)).matches(event({ replyid: id }))).toBe(false);
  });
});
