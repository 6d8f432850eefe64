#!/usr/bin/env node
// Queue reprimage releases in rebuilderd (docs/rebuild.md): prints the package report that
// `rebuildctl pkgs sync-stdin` reads, for release directories served over http(s).
//
//   node reprimage-rebuilderd-import.mjs [--architecture amd64] URL... | rebuildctl pkgs sync-stdin
//   node reprimage-rebuilderd-import.mjs --api v0 URL... | rebuildctl pkgs sync-stdin reprimage SUITE
//
// --api v1 (the default) is rebuilderd's current API (a PackageReport, 0.25 and later); --api v0
// is the list of package groups that rebuilderd up to 0.24 reads (Debian trixie ships 0.23/0.24),
// with --suite naming the suite (default: releases), which must match the one given to rebuildctl.
//
// Each URL is a release's manifest.json, or a directory listing (ending in /) whose
// subdirectories each hold a release (manifest.json beside the image and recipe-inputs.tar).
// One group per release: name = the manifest's name, version = the release directory's name,
// input = manifest.json, artifacts = every output the manifest lists plus the inputs bundle
// (rebuilt byte for byte too, so a changed recipe cannot hide behind a matching image).
/* global fetch, AbortSignal */
import { argv, exit, stderr, stdout } from 'node:process';
import { URL } from 'node:url';

const args = argv.slice(2);
let architecture = 'amd64';
let api = 'v1';
let suite = 'releases';
const urls = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--architecture') architecture = args[++i] ?? '';
  else if (args[i] === '--api') api = args[++i] ?? '';
  else if (args[i] === '--suite') suite = args[++i] ?? '';
  else if (args[i].startsWith('-')) fail(`unknown option ${args[i]}`);
  else urls.push(args[i]);
}
if (urls.length === 0 || !architecture || !suite || !['v0', 'v1'].includes(api)) fail('usage: reprimage-rebuilderd-import.mjs [--architecture ARCH] [--api v0|v1] [--suite SUITE] URL...');

function fail(message) {
  stderr.write(`reprimage-rebuilderd-import: ${message}\n`);
  exit(2);
}

async function get(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(60_000) }).catch((e) => fail(`${url}: ${e.cause?.message ?? e.message}`));
  if (!response.ok) fail(`${url}: the server answered ${response.status}`);
  return response.text();
}

/** The manifest URLs of a listing: each subdirectory's manifest.json that exists. */
async function manifestsOf(listing) {
  const html = await get(listing);
  const found = [];
  for (const [, href] of html.matchAll(/href="([^"?#]+)"/g)) {
    const url = new URL(href, listing);
    if (!url.href.startsWith(listing) || url.href === listing) continue;
    if (url.pathname.endsWith('/manifest.json')) found.push(url.href);
    else if (url.pathname.endsWith('/') && url.href.slice(listing.length).split('/').length === 2) {
      const candidate = new URL('manifest.json', url).href;
      const head = await fetch(candidate, { method: 'HEAD', signal: AbortSignal.timeout(60_000) }).catch(() => undefined);
      if (head?.ok) found.push(candidate);
    }
  }
  return [...new Set(found)].sort();
}

const packages = [];
for (const url of urls) {
  const manifests = url.endsWith('/') ? await manifestsOf(url) : [url];
  for (const manifestUrl of manifests) {
    let m;
    try {
      m = JSON.parse(await get(manifestUrl)).reproducible;
    } catch {
      fail(`${manifestUrl}: not JSON`);
    }
    if (!m?.outputs?.length || !m.inputs?.bundle) fail(`${manifestUrl}: not a reprimage manifest of version 2 or later (no outputs or no inputs bundle)`);
    const version = decodeURIComponent(new URL('.', manifestUrl).pathname.split('/').filter(Boolean).pop() ?? m.name);
    const artifact = (path) => ({ name: path, version, component: null, architecture, url: new URL(encodeURIComponent(path), manifestUrl).href });
    packages.push({ name: m.name, version, url: manifestUrl, artifacts: [...m.outputs.map((o) => artifact(o.path)), artifact(m.inputs.bundle.path)] });
  }
}
if (packages.length === 0) fail(`no release with a manifest.json under ${urls.join(', ')}`);
const report =
  api === 'v1'
    ? { distribution: 'reprimage', release: null, architecture, packages }
    : packages.map((p) => ({ name: p.name, version: p.version, distro: 'reprimage', suite, architecture, input_url: p.url, artifacts: p.artifacts.map((a) => ({ name: a.name, version: a.version, url: a.url })) }));
stdout.write(`${JSON.stringify(report, null, 2)}\n`);
