/**
 * `npm run bench`: the micro-benchmarks of the pure code (bench/micro.ts), then the end-to-end benchmark
 * (bench/e2e.ts), whose flags pass through: `npm run bench -- --runs 3 --size-mib 5`. Each also runs alone:
 * `npx tsx bench/micro.ts`, `npx tsx bench/e2e.ts --help`.
 */
import { runE2eBenchmark } from './e2e.js';

console.log('# micro-benchmarks (bench/micro.ts)');
console.log();
await import('./micro.js');
console.log();
console.log('# end-to-end (bench/e2e.ts)');
console.log();
try {
  await runE2eBenchmark(process.argv.slice(2));
} catch (error) {
  console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
// Everything is stopped by now; exit without waiting for the gRPC client's lingering timers (about 10 s).
process.exit();
