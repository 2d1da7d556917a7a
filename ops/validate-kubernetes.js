#!/usr/bin/env node
// Validates Kubernetes manifests against the Kubernetes and Prometheus Operator schemas of the npm
// packages kubernetes-models and @kubernetes-models/prometheus-operator (tools/node; `npm ci` there).
//
//   node ops/validate-kubernetes.js [--json] <directory or file>...
//
// Every YAML document must have an apiVersion/kind with a model (anything else is an error), pass
// that model's schema, and have no field the schema does not know: the models' schemas accept
// unknown fields, so a misspelled `readinessProbes` would pass them silently. kubectl's
// --validate=strict and kubeconform's -strict refuse those; so does this script. A kustomization.yaml
// must list every manifest of its directory, and only files that exist.
// Exit 0 when all is valid (with --json, the validated documents are printed as JSON); 1 otherwise,
// with one line per problem.
'use strict';

const fs = require('fs');
const path = require('path');
const toolsRequire = require('module').createRequire(path.resolve(__dirname, '../tools/node/package.json'));
const YAML = toolsRequire('yaml');

// Where the model of an apiVersion lives: the core API in kubernetes-models, CRDs in their packages.
const MODEL_PACKAGES = ['kubernetes-models', '@kubernetes-models/prometheus-operator'];

const KUSTOMIZATION_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'resources', 'components', 'namespace',
  'namePrefix', 'nameSuffix', 'labels', 'commonLabels', 'commonAnnotations', 'images', 'replicas', 'patches',
  'configMapGenerator', 'secretGenerator', 'generatorOptions', 'replacements', 'buildMetadata']);

function modelOf(apiVersion, kind) {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !/^[a-z0-9.\-]*\/?v[0-9a-z]+$/.test(apiVersion)) {
    return null;
  }
  for (const pkg of MODEL_PACKAGES) {
    let mod;
    try {
      mod = toolsRequire(`${pkg}/${apiVersion}`);
    } catch (e) {
      continue;
    }
    const Model = mod[kind];
    if (Model && Model.apiVersion === apiVersion && Model.kind === kind) {
      return Model;
    }
  }
  return null;
}

// Wraps a document so that every property the schema validator reads is recorded. The compiled
// validators read each property their schema declares (and enumerate the keys of a map), so a
// property present in an object whose schema declares properties, but never read, is unknown.
function recording(value, where, objects) {
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const node = { value, where, read: new Set(), enumerated: false, children: new Map() };
  objects.push(node);
  return new Proxy(value, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== 'string') {
        return v;
      }
      node.read.add(key);
      if (v === null || typeof v !== 'object') {
        return v;
      }
      if (!node.children.has(key)) {
        node.children.set(key, recording(v, `${where}.${key}`, objects));
      }
      return node.children.get(key);
    },
    ownKeys(target) {
      node.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

function unknownFields(objects) {
  const out = [];
  for (const o of objects) {
    if (Array.isArray(o.value) || o.enumerated || o.read.size === 0) {
      continue; // an array, a map (any key), or a free-form object the schema does not describe
    }
    for (const key of Object.keys(o.value)) {
      if (!o.read.has(key)) {
        out.push(`unknown field "${o.where}.${key}"`);
      }
    }
  }
  return out;
}

function validateDocument(doc) {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return ['is not a mapping'];
  }
  const Model = modelOf(doc.apiVersion, doc.kind);
  if (!Model) {
    return [`unknown apiVersion/kind ${doc.apiVersion}/${doc.kind}`];
  }
  const problems = [];
  const objects = [];
  try {
    Model.prototype.validate.call(recording(doc, doc.kind, objects));
  } catch (e) {
    return [e.message];
  }
  problems.push(...unknownFields(objects));
  if (!doc.metadata || typeof doc.metadata.name !== 'string' || doc.metadata.name === '') {
    problems.push('metadata.name is required');
  }
  return problems;
}

function validateKustomization(doc, dir, manifests) {
  const problems = [];
  for (const key of Object.keys(doc || {})) {
    if (!KUSTOMIZATION_FIELDS.has(key)) {
      problems.push(`unknown field "Kustomization.${key}"`);
    }
  }
  const listed = new Set();
  for (const r of (doc && doc.resources) || []) {
    const file = path.resolve(dir, String(r));
    listed.add(file);
    if (!fs.existsSync(file)) {
      problems.push(`resource ${r} does not exist`);
    }
  }
  for (const m of manifests) {
    if (path.dirname(m) === path.resolve(dir) && !listed.has(m)) {
      problems.push(`${path.basename(m)} is not listed in resources`);
    }
  }
  return problems;
}

// Text that kubectl would refuse or mangle: invalid UTF-8, or a control character in a value.
function readText(file, rel, problems) {
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(fs.readFileSync(file));
  } catch (e) {
    problems.push(`${rel}: is not valid UTF-8`);
    return null;
  }
  const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(text);
  if (control) {
    const line = text.slice(0, control.index).split('\n').length;
    problems.push(`${rel}: line ${line}: control character U+${control[0].charCodeAt(0).toString(16).padStart(4, '0')}`);
    return null;
  }
  return text;
}

function yamlFiles(target) {
  const stat = fs.statSync(target);
  if (stat.isFile()) {
    return [path.resolve(target)];
  }
  return fs.readdirSync(target).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.resolve(target, f));
}

function main(argv) {
  const json = argv.includes('--json');
  const targets = argv.filter((a) => a !== '--json');
  if (targets.length === 0) {
    console.error('usage: validate-kubernetes.js [--json] <directory or file>...');
    return 2;
  }
  const files = targets.flatMap(yamlFiles);
  const manifests = files.filter((f) => !/^kustomization\.ya?ml$/.test(path.basename(f)));
  const problems = [];
  const valid = [];
  const seen = new Map();
  for (const file of files) {
    const rel = path.relative(process.cwd(), file);
    const text = readText(file, rel, problems);
    if (text === null) {
      continue;
    }
    const docs = YAML.parseAllDocuments(text, { uniqueKeys: true });
    docs.forEach((parsed, i) => {
      const at = docs.length > 1 ? `${rel} (document ${i + 1})` : rel;
      if (parsed.errors.length > 0) {
        parsed.errors.forEach((e) => problems.push(`${at}: ${e.message}`));
        return;
      }
      const doc = parsed.toJS();
      if (doc === null) {
        return; // an empty document, e.g. after a trailing ---
      }
      const kustomization = /^kustomization\.ya?ml$/.test(path.basename(file));
      const found = kustomization ? validateKustomization(doc, path.dirname(file), manifests) : validateDocument(doc);
      found.forEach((p) => problems.push(`${at}: ${p}`));
      if (!kustomization && found.length === 0) {
        const id = `${doc.kind}/${doc.metadata.name}`;
        if (seen.has(id)) {
          problems.push(`${at}: ${id} is also defined in ${seen.get(id)}`);
        }
        seen.set(id, at);
      }
      valid.push({ file: rel, document: doc });
    });
  }
  if (problems.length > 0) {
    problems.forEach((p) => console.error(p));
    console.error(`${problems.length} problem(s) in ${files.length} file(s)`);
    return 1;
  }
  if (json) {
    console.log(JSON.stringify(valid));
  } else {
    console.log(`${valid.length} document(s) in ${files.length} file(s) valid`);
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
