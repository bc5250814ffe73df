// Part of `npm run build`: bundles the CLI (dist/cli/main.js and the client-side commands it loads: publish, status,
// list, override, report, schedule) into one file, dist/cli/main.bundle.js, which bin/compose-publisher.js runs.
// One file loads in about 0.5 s where the ~400 modules of @temporalio/client, grpc-js and protobufjs took 0.7 s
// (docs/performance.md). The worker-side commands (worker, listen, demo) stay out of it and load from dist/ as
// built: they find files next to their own modules (the workflow bundle, the tool launcher, .tools/).
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const OUTFILE = 'dist/cli/main.bundle.js';
const WORKER_SIDE = /^\.\/commands\/(worker|listen|demo)\.js$/;

const result = await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: OUTFILE,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  metafile: true,
  // Loaded only when a proxy applies to a compose download (src/compose/compose-http.ts): from node_modules then.
  external: ['undici'],
  logLevel: 'warning',
  // CommonJS packages in an ES module bundle still call require() (for node's own modules).
  banner: {
    js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);",
  },
  plugins: [
    {
      name: 'worker-side-commands-stay-out',
      setup(bundle) {
        bundle.onResolve({ filter: WORKER_SIDE }, (args) => ({ path: args.path, external: true }));
      },
    },
  ],
});

// A module of ours that finds files next to itself would look for them next to the bundle instead: refuse to build.
const located = Object.keys(result.metafile.inputs).filter(
  (input) =>
    input.startsWith('dist/') && /import\.meta\.(url|resolve|dirname|filename)/.test(readFileSync(input, 'utf8')),
);
if (located.length > 0) {
  console.error(
    `bundle-cli: these modules find files next to themselves and cannot be in ${OUTFILE}: ${located.join(', ')}`,
  );
  process.exit(1);
}
const modules = Object.keys(result.metafile.inputs).length;
console.log(
  `CLI bundle: ${OUTFILE} (${modules} modules, ${Math.round(result.metafile.outputs[OUTFILE].bytes / 1024)} KiB)`,
);
