// The path of `compose-publisher publish <compose> --wait`, as bin/compose-publisher.js runs it from a checkout (src/
// through tsx) or from dist/ (`--built`), with a timestamp after each phase. Run by bench/cli-phases.ts; prints one
// JSON line: milliseconds since the process started (performance.now()) at the end of each phase.
import { fileURLToPath } from 'node:url';

const [configFile, location, mode] = process.argv.slice(2);
const marks = { nodeStarted: performance.now() };
const mark = (name) => (marks[name] = performance.now());
const root = new URL('..', import.meta.url);
const module = (path) => new URL(mode === 'built' ? `dist/${path}.js` : `src/${path}.ts`, root).href;
if (mode !== 'built') {
  const { register } = await import('tsx/esm/api');
  register();
  mark('tsxRegistered');
}
await import('commander');
const { configFromOptions } = await import(module('cli/load-config'));
mark('cliImported');
const runs = await import(module('client/publish-runs'));
const { connectClient } = await import(module('client/connection'));
await import(module('cli/format-status'));
mark('publishImported');
const config = configFromOptions(configFile);
mark('configRead');
const compose = await runs.readComposeToPublish(config, location);
mark('composeRead');
const client = await connectClient(config);
mark('connected');
const run = await runs.startRunForCompose(client, config, compose.root, compose.composeId);
mark('started');
const status = await runs.waitForRun(run.handle, run.composeId);
mark('ended');
await client.connection.close();
mark('closed');
console.log(JSON.stringify({ marks, phase: status.phase, file: fileURLToPath(import.meta.url) }));
process.exit(0);
