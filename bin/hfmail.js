#!/usr/bin/env node
// Runs the JavaScript bundle that `npm ci` builds (scripts/build.mjs -> dist/hfmail.js): plain JavaScript starts
// faster and holds less memory than TypeScript compiled at run time. The TypeScript sources run instead (through
// tsx) when there is no bundle, when a source file is newer than it (a checkout being worked on), or when
// HFMAIL_FROM_SOURCE=1.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { URL } from 'node:url';

const root = new URL('../', import.meta.url);
const bundle = new URL('dist/hfmail.js', root);

function newestSource(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    newest = Math.max(newest, statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs);
  }
  return newest;
}

function bundleIsCurrent() {
  if (process.env.HFMAIL_FROM_SOURCE === '1' || !existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  return ['src', 'sim'].every((d) => newestSource(new URL(d, root)) <= built);
}

if (bundleIsCurrent()) {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
