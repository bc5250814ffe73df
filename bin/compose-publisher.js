#!/usr/bin/env node
// Runs the built dist/ when it is there and at least as new as every file of src/ (after `npm run build`, and in
// an installed image without src/); otherwise runs src/ through tsx, so a checkout being edited never runs stale code.
// Built, it runs the CLI's one-file bundle (scripts/bundle-cli.mjs: it starts faster) when the build made one.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/cli/main.js', import.meta.url);
const bundled = new URL('../dist/cli/main.bundle.js', import.meta.url);

function newestChange(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    newest = Math.max(newest, entry.isDirectory() ? newestChange(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const useBuilt =
  existsSync(built) &&
  (!existsSync(source) || statSync(built).mtimeMs >= newestChange(fileURLToPath(new URL('../src', import.meta.url))));
if (useBuilt) {
  await import((existsSync(bundled) && statSync(bundled).mtimeMs >= statSync(built).mtimeMs ? bundled : built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
}
