/**
 * The console's deep links. Every view has a URL under /console that can be shared and reloaded;
 * the Worker answers all of them with the same page (functions/console.ts).
 */
export type Route =
  | { view: "home" }
  | { view: "namespace"; ns: string }
  | { view: "object"; ns: string; plural: string; name: string }
  | { view: "deadletters"; ns: string; plural: string; name: string; id?: string }
  | { view: "notfound"; path: string };

const SEGMENT = "([^/]+)";
const PATTERNS: [RegExp, (m: string[]) => Route][] = [
  [/^\/console\/?$/, () => ({ view: "home" })],
  [new RegExp(`^/console/namespaces/${SEGMENT}/?$`), ([ns]) => ({ view: "namespace", ns: ns! })],
  [new RegExp(`^/console/namespaces/${SEGMENT}/${SEGMENT}/${SEGMENT}/?$`), ([ns, plural, name]) => ({ view: "object", ns: ns!, plural: plural!, name: name! })],
  [new RegExp(`^/console/namespaces/${SEGMENT}/${SEGMENT}/${SEGMENT}/deadletters/?$`), ([ns, plural, name]) => ({ view: "deadletters", ns: ns!, plural: plural!, name: name! })],
  [new RegExp(`^/console/namespaces/${SEGMENT}/${SEGMENT}/${SEGMENT}/deadletters/${SEGMENT}/?$`), ([ns, plural, name, id]) => ({ view: "deadletters", ns: ns!, plural: plural!, name: name!, id: id! })],
];

export function parseRoute(pathname: string): Route {
  for (const [re, make] of PATTERNS) {
    const m = re.exec(pathname);
    if (!m) continue;
    try {
      return make(m.slice(1).map((s) => decodeURIComponent(s)));
    } catch {
      // a malformed %-escape: not one of ours
      break;
    }
  }
  return { view: "notfound", path: pathname };
}

export function routePath(r: Route): string {
  const e = encodeURIComponent;
  switch (r.view) {
    case "home":
      return "/console";
    case "namespace":
      return `/console/namespaces/${e(r.ns)}`;
    case "object":
      return `/console/namespaces/${e(r.ns)}/${e(r.plural)}/${e(r.name)}`;
    case "deadletters":
      return `/console/namespaces/${e(r.ns)}/${e(r.plural)}/${e(r.name)}/deadletters${r.id ? `/${e(r.id)}` : ""}`;
    case "notfound":
      return r.path;
  }
}
