#!/usr/bin/env node
// Rebuilds core/kube/knative/crds.json from Knative Eventing's published CRDs. Run by hand when
// moving to a newer Knative release; Eddy never reads the CRDs at run time.
//
//   git clone --depth 1 --branch knative-v1.22.2 https://github.com/knative/eventing /tmp/eventing
//   node scripts/vendor-knative-crds.mjs /tmp/eventing knative-v1.22.2
//
// Keeps, per CRD, the names (plural, singular, shortNames, categories), and for the version Eddy
// serves the openAPIV3Schema (descriptions included: `kubectl explain` shows them) and the
// additionalPrinterColumns (Table output).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

const [repo, tag] = process.argv.slice(2);
if (!repo || !tag) {
  console.error("usage: node scripts/vendor-knative-crds.mjs <knative/eventing checkout> <tag>");
  process.exit(2);
}

/** CRD file → the one version Eddy serves of it. */
const FILES = {
  "config/core/resources/broker.yaml": "v1",
  "config/core/resources/trigger.yaml": "v1",
  "config/core/resources/channel.yaml": "v1",
  "config/channels/in-memory-channel/resources/in-memory-channel.yaml": "v1",
  "config/core/resources/subscription.yaml": "v1",
  "config/core/resources/sequence.yaml": "v1",
  "config/core/resources/parallel.yaml": "v1",
  "config/core/resources/pingsource.yaml": "v1",
  "config/core/resources/eventtype.yaml": "v1beta3",
  "config/core/resources/eventpolicy.yaml": "v1alpha1",
  "config/core/resources/eventtransform.yaml": "v1alpha1",
  "config/core/resources/requestreply.yaml": "v1alpha1",
};

const crds = [];
for (const [file, served] of Object.entries(FILES)) {
  const docs = parseAllDocuments(readFileSync(join(repo, file), "utf8")).map((d) => d.toJS());
  const crd = docs.find((d) => d?.kind === "CustomResourceDefinition");
  if (!crd) throw new Error(`${file}: no CustomResourceDefinition`);
  const version = crd.spec.versions.find((v) => v.name === served);
  if (!version) throw new Error(`${file}: no version ${served}`);
  const { kind, plural, singular, shortNames, categories } = crd.spec.names;
  crds.push({
    group: crd.spec.group,
    version: served,
    kind, plural, singular,
    ...(shortNames ? { shortNames } : {}),
    ...(categories ? { categories } : {}),
    schema: version.schema.openAPIV3Schema,
    columns: version.additionalPrinterColumns ?? [],
    source: file,
  });
}

const out = {
  source: `https://github.com/knative/eventing ${tag}`,
  license: "Apache-2.0; Copyright The Knative Authors; see LICENSE in this folder",
  crds,
};
const target = join(import.meta.dirname, "..", "core", "kube", "knative", "crds.json");
writeFileSync(target, JSON.stringify(out) + "\n");
console.log(`wrote ${crds.length} CRDs to ${target}`);
