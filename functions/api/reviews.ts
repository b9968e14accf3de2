import { Hono } from "hono";
import { ApiError } from "../../core/errors.js";
import { isMap } from "../../core/kube/fieldset.js";
import type { Attributes } from "../../core/rbac/types.js";
import type { ApiEnv, C } from "./context.js";
import { readManifest } from "./manifest.js";
import { answer } from "./request.js";

/**
 * Asking what one may do, as Kubernetes answers it (every authenticated caller may ask about
 * itself, core/rbac/builtin.ts): SelfSubjectAccessReview (`kubectl auth can-i VERB RESOURCE`),
 * SelfSubjectRulesReview (`kubectl auth can-i --list`) and SelfSubjectReview (`kubectl auth whoami`).
 * Each is answered from the same RBAC decision every request gets (./access.ts).
 */
export const reviews = new Hono<ApiEnv>();

const AUTHZ = "authorization.k8s.io";

async function review(c: C, kind: string): Promise<Record<string, unknown>> {
  const body = await readManifest(c.req.raw);
  if (!isMap(body)) throw new ApiError(400, `the body must be a ${kind} object`);
  if (body.kind !== undefined && body.kind !== kind) throw new ApiError(400, `kind ${JSON.stringify(body.kind)} does not match this URL, which takes ${kind}`);
  return body;
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

reviews.post(`/${AUTHZ}/v1/selfsubjectaccessreviews`, async (c) => {
  const body = await review(c, "SelfSubjectAccessReview");
  const spec = isMap(body.spec) ? body.spec : {};
  const ra = isMap(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const nra = isMap(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  if (!ra === !nra) {
    throw ApiError.invalid("SelfSubjectAccessReview", "", [{ field: "spec", message: "exactly one of resourceAttributes and nonResourceAttributes must be given" }], AUTHZ);
  }
  const a: Attributes = ra
    ? { resourceRequest: true, verb: str(ra.verb), apiGroup: str(ra.group), apiVersion: str(ra.version), resource: str(ra.resource), subresource: str(ra.subresource), namespace: str(ra.namespace), name: str(ra.name) }
    : { resourceRequest: false, verb: str(nra!.verb), path: str(nra!.path) };
  const d = await c.get("access").decide(a);
  return answer({
    apiVersion: `${AUTHZ}/v1`, kind: "SelfSubjectAccessReview", metadata: { creationTimestamp: null }, spec,
    status: { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) },
  }, 201);
});

reviews.post(`/${AUTHZ}/v1/selfsubjectrulesreviews`, async (c) => {
  const body = await review(c, "SelfSubjectRulesReview");
  const ns = isMap(body.spec) ? str(body.spec.namespace) : "";
  const rules = await c.get("access").rules(ns);
  return answer({
    apiVersion: `${AUTHZ}/v1`, kind: "SelfSubjectRulesReview", metadata: { creationTimestamp: null }, spec: { namespace: ns },
    status: {
      resourceRules: rules.filter((r) => !r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) })),
      nonResourceRules: rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
      incomplete: false,
    },
  }, 201);
});

reviews.post("/authentication.k8s.io/v1/selfsubjectreviews", async (c) => {
  await review(c, "SelfSubjectReview").catch((e: unknown) => {
    if (!(e instanceof ApiError && e.message.startsWith("the request body is empty"))) throw e;
  });
  const { username, groups, uid } = c.get("access").user;
  return answer({
    apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview", metadata: { creationTimestamp: null },
    status: { userInfo: { username, groups, ...(uid ? { uid } : {}) } },
  }, 201);
});
