// Part of `npm run build`: bundles the built workflows once, so a worker started from dist/ loads the bundle
// instead of bundling at every start.
import { writeFileSync } from 'node:fs';
import { bundleWorkflows, PREBUILT_BUNDLE_PATH } from '../dist/worker.js';

const { code } = await bundleWorkflows();
writeFileSync(PREBUILT_BUNDLE_PATH, code);
console.log(`workflow bundle: ${PREBUILT_BUNDLE_PATH} (${Math.round(code.length / 1024)} KiB)`);
