/**
 * `npm run bench`: the micro-benchmarks of the pure code (bench/micro.ts), the end-to-end benchmark (bench/e2e.ts),
 * what [signing] adds (bench/signing.ts), then the scale benchmark (bench/scale.ts, 50 composes in flight; 1 and 3
 * workers). Flags pass through to the end-to-end benchmark (`npm run bench -- --runs 3 --size-mib 5`); `--no-scale`
 * leaves the scale benchmark out, `--no-signing` the signing one. Each also runs alone: `npx tsx bench/micro.ts`,
 * `npx tsx bench/e2e.ts --help`, `npx tsx bench/signing.ts`, `npx tsx bench/scale.ts --help`.
 */
import { runE2eBenchmark } from './e2e.js';
import { runScaleBenchmark } from './scale.js';
import { runSigningBenchmark } from './signing.js';

const args = process.argv.slice(2);
const scale = !args.includes('--no-scale');
const signing = !args.includes('--no-signing');

console.log('# micro-benchmarks (bench/micro.ts)');
console.log();
await import('./micro.js');
try {
  console.log();
  console.log('# end-to-end (bench/e2e.ts)');
  console.log();
  await runE2eBenchmark(args.filter((arg) => arg !== '--no-scale' && arg !== '--no-signing'));
  if (signing) {
    console.log();
    console.log('# signing (bench/signing.ts)');
    console.log();
    await runSigningBenchmark([]);
  }
  if (scale) {
    console.log();
    console.log('# scale (bench/scale.ts)');
    console.log();
    await runScaleBenchmark([]);
  }
} catch (error) {
  console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
// Everything is stopped by now; exit without waiting for the gRPC client's lingering timers (about 10 s).
process.exit();
