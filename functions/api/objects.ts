import { ApiError } from "../../core/errors.js";
import { isMap } from "../../core/kube/fieldset.js";
import { afterUpdate, serverSideApply } from "../../core/kube/managed.js";
import { jsonPatch, mergePatch } from "../../core/kube/patch.js";
import { parseIncludeObject, table, tableContentType, tableVersion } from "../../core/kube/table.js";
import { WatchView, type WatchOptions } from "../../core/kube/watch.js";
import type { Manifest, Resource } from "../../core/resources/types.js";
import { readBody } from "../body.js";
import { readManifest } from "./manifest.js";
import { watchResponse } from "./watch.js";
import { presenter } from "./present.js";
import type { Result } from "../../core/result.js";
import { guardEscalation } from "./rbac-guard.js";
import {
  answer, baseUrl, checkFields, kindAt, type C, afterWrite, live, notFound, type Target, targetOf, unwrap, writeOptions,
} from "./request.js";

/**
 * Object handlers of the Kubernetes-style API, shared by `/apis/{group}/{version}/...` and
 * `/api/v1/...`: list (with selectors, Table output and watch), get, create, replace, patch (merge,
 * JSON and server-side apply), delete (with DeleteOptions), each write with `?dryRun=All`.
 */

function viewOptions(c: C) {
  const v = tableVersion(c.req.header("accept"));
  return {
    labelSelector: c.req.query("labelSelector") ?? "",
    fieldSelector: c.req.query("fieldSelector") ?? "",
    ...(v ? { table: { version: v, includeObject: parseIncludeObject(c.req.query("includeObject")) } } : {}),
  };
}

function isWatch(c: C): boolean {
  const w = c.req.query("watch");
  return w === "true" || w === "1";
}

async function listAnswer(t: Target, c: C, items: Resource[], resourceVersion: string): Promise<Response> {
  const opts = viewOptions(c);
  const view = new WatchView(t.crd, opts);
  const show = await presenter(c, t, "list");
  const selected = await Promise.all(view.selected(items).map(show));
  if (opts.table) {
    return answer(table(selected, t.crd, Date.now(), { ...opts.table, resourceVersion }), 200, [], tableContentType(opts.table.version));
  }
  return answer({ apiVersion: t.apiVersion, kind: `${t.kind.kind}List`, metadata: { resourceVersion }, items: selected }, 200);
}

/** GET `.../namespaces/{ns}/{plural}`: a list, or with `?watch=true` a stream of WatchEvents. */
export async function listObjects(c: C): Promise<Response> {
  const t = targetOf(c);
  if (isWatch(c)) {
    const timeout = Number(c.req.query("timeoutSeconds") ?? "");
    const opts: WatchOptions = {
      ...viewOptions(c),
      ...(c.req.query("resourceVersion") !== undefined ? { resourceVersion: c.req.query("resourceVersion")! } : {}),
      ...(Number.isFinite(timeout) && timeout > 0 ? { timeoutSeconds: timeout } : {}),
    };
    return watchResponse(c, t, opts);
  }
  const { items, resourceVersion } = unwrap<{ items: Resource[]; resourceVersion: string }>(await t.stub.list(t.ns, t.path));
  return listAnswer(t, c, items, resourceVersion);
}

/**
 * GET `/apis/{group}/{version}/{plural}` (`kubectl get -A`): every namespace in the directory.
 * Each namespace counts its own resourceVersions, so such a list has none and cannot be watched.
 */
export async function listAllNamespaces(c: C): Promise<Response> {
  if (kindAt(c).kind.clusterScoped) return listObjects(c);
  const t = targetOf(c, "default");
  if (isWatch(c)) {
    throw new ApiError(400, "watching across namespaces is not supported: each namespace keeps its own resourceVersions; watch one namespace (kubectl get -w -n NAMESPACE)", [], {}, {}, "BadRequest");
  }
  const namespaces = await c.env.DIRECTORY.get(c.env.DIRECTORY.idFromName("global")).list();
  const lists = await Promise.all(namespaces.map(async (n) => {
    const nt = targetOf(c, n.name);
    return unwrap<{ items: Resource[] }>(await nt.stub.list(n.name, nt.path)).items;
  }));
  // Secrets' values only for those who may get them in every namespace.
  return listAnswer({ ...t, ns: "" }, c, lists.flat(), "");
}

export async function getObject(c: C): Promise<Response> {
  const t = targetOf(c);
  const obj = await (await presenter(c, t, "object"))(unwrap<Resource>(await t.stub.get(t.ns, t.path, c.req.param("name")!)));
  const v = tableVersion(c.req.header("accept"));
  if (v) {
    const include = parseIncludeObject(c.req.query("includeObject"));
    return answer(table([obj], t.crd, Date.now(), { version: v, includeObject: include, resourceVersion: obj.metadata.resourceVersion }), 200, [], tableContentType(v));
  }
  return answer(obj, 200);
}

export async function createObject(c: C): Promise<Response> {
  const t = targetOf(c);
  const opts = writeOptions(c);
  const body = await readManifest(c.req.raw);
  const warnings = checkFields(t, body, opts.fieldValidation);
  if (isMap(body) && (body.metadata === undefined || isMap(body.metadata))) {
    (body as Manifest).metadata = { ...(body.metadata as object), managedFields: afterUpdate(undefined, body as Manifest, opts.manager, t.apiVersion, new Date()) };
  }
  await guardEscalation(c, t, body);
  const obj = unwrap<Resource>(await t.stub.create(t.ns, t.path, body, baseUrl(c), opts.dryRun));
  if (!opts.dryRun) await afterWrite(c, t.ns, true);
  return answer(await (await presenter(c, t, "object"))(obj), 201, warnings);
}

export async function replaceObject(c: C): Promise<Response> {
  const t = targetOf(c);
  const name = c.req.param("name")!;
  const opts = writeOptions(c);
  const body = await readManifest(c.req.raw);
  const warnings = checkFields(t, body, opts.fieldValidation);
  const show = await presenter(c, t, "object");
  if (isMap(body) && (body.metadata === undefined || isMap(body.metadata))) {
    const old = await live(t, name, show);
    (body as Manifest).metadata = { ...(body.metadata as object), managedFields: afterUpdate(old, body as Manifest, opts.manager, t.apiVersion, new Date()) };
  }
  await guardEscalation(c, t, body);
  const { object, created } = unwrap<{ object: Resource; created: boolean }>(await t.stub.replace(t.ns, t.path, name, body, baseUrl(c), opts.dryRun));
  if (!opts.dryRun) await afterWrite(c, t.ns, created);
  return answer(await show(object), created ? 201 : 200, warnings);
}

const PATCH_TYPES = ["application/merge-patch+json", "application/json-patch+json", "application/apply-patch+yaml"];

/**
 * PATCH `.../{plural}/{name}`: the patch is applied to the live object here and the result stored
 * with the live resourceVersion as a precondition, retried when another write came first (unless
 * the patch itself names a resourceVersion), as the Kubernetes API server does.
 */
export async function patchObject(c: C): Promise<Response> {
  const t = targetOf(c);
  const name = c.req.param("name")!;
  const opts = writeOptions(c);
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/strategic-merge-patch+json") {
    throw new ApiError(415, "strategic merge patch is not supported for custom resources: use a JSON merge patch (kubectl patch --type=merge), a JSON patch (--type=json) or server-side apply", [], {}, {}, "UnsupportedMediaType");
  }
  if (!PATCH_TYPES.includes(type)) {
    throw new ApiError(415, `PATCH needs Content-Type ${PATCH_TYPES.join(", ")}; got "${type || "none"}"`, [], {}, {}, "UnsupportedMediaType");
  }
  const patch = await readManifest(c.req.raw);
  const force = c.req.query("force") === "true";
  if (type === "application/apply-patch+yaml") {
    if (!c.req.query("fieldManager")) throw new ApiError(400, "server-side apply needs a fieldManager: add ?fieldManager=NAME (kubectl sets it)", [], {}, {}, "BadRequest");
    if (!isMap(patch)) throw new ApiError(400, `the applied configuration must be a ${t.kind.kind} object`);
  } else if (force) {
    throw new ApiError(400, "force is only for server-side apply (application/apply-patch+yaml)", [], {}, {}, "BadRequest");
  }
  const pinned = isMap(patch) && isMap(patch.metadata) && patch.metadata.resourceVersion !== undefined;
  const show = await presenter(c, t, "object");
  for (let attempt = 0; ; attempt++) {
    const current = await live(t, name, show);
    const now = new Date();
    let next: Manifest;
    if (type === "application/apply-patch+yaml") {
      next = serverSideApply(current, patch as Manifest, opts.manager, force, t.apiVersion, now).object;
    } else {
      if (!current) throw notFound(t, name);
      next = (type === "application/merge-patch+json" ? mergePatch(current, patch) : jsonPatch(current, patch)) as Manifest;
      if (!isMap(next)) throw new ApiError(422, `the patched ${t.kind.kind} is not an object`);
      if (next.metadata !== undefined && !isMap(next.metadata)) throw new ApiError(422, "the patched metadata is not an object");
      next.metadata = { ...next.metadata, managedFields: afterUpdate(current, next, opts.manager, t.apiVersion, now) };
    }
    if (current && !pinned) (next.metadata ??= {}).resourceVersion = current.metadata.resourceVersion;
    const warnings = checkFields(t, next, opts.fieldValidation);
    await guardEscalation(c, t, next);
    const res = (await t.stub.replace(t.ns, t.path, name, next, baseUrl(c), opts.dryRun)) as Result<unknown>;
    if (!res.ok && res.status === 409 && current && !pinned && attempt < 4) continue;
    const { object, created } = unwrap<{ object: Resource; created: boolean }>(res);
    if (!opts.dryRun) await afterWrite(c, t.ns, created);
    return answer(await show(object), created ? 201 : 200, warnings);
  }
}

/** DELETE `.../{plural}/{name}` with an optional DeleteOptions body (preconditions, dryRun). */
export async function deleteObject(c: C): Promise<Response> {
  const t = targetOf(c);
  const name = c.req.param("name")!;
  const opts = writeOptions(c);
  // kubectl sends DeleteOptions as JSON; an empty body means none.
  const text = new TextDecoder().decode(await readBody(c.req.raw, 64 * 1024)).trim();
  let options: unknown = {};
  if (text) {
    try {
      options = JSON.parse(text);
    } catch (e) {
      throw new ApiError(400, `the DELETE body is not JSON (${(e as Error).message}); send a DeleteOptions object or nothing`);
    }
  }
  if (!isMap(options)) throw new ApiError(400, "the DELETE body must be a DeleteOptions object, e.g. {\"preconditions\":{\"uid\":\"...\"}}");
  const pre = isMap(options.preconditions) ? options.preconditions : {};
  const dryRun = opts.dryRun || (Array.isArray(options.dryRun) && options.dryRun.includes("All"));
  const obj = unwrap<Resource>(await t.stub.remove(t.ns, t.path, name, baseUrl(c), {
    dryRun,
    ...(typeof pre.uid === "string" ? { uid: pre.uid } : {}),
    ...(typeof pre.resourceVersion === "string" ? { resourceVersion: pre.resourceVersion } : {}),
  }));
  if (!dryRun) await afterWrite(c, t.ns, false);
  return answer({
    kind: "Status", apiVersion: "v1", metadata: {}, status: "Success",
    details: { name: obj.metadata.name, group: t.kind.group, kind: t.kind.plural, uid: obj.metadata.uid },
  }, 200);
}
