// The run's Temporal contract, in one place: what the workflows, the worker, the CLI, the dev server, the
// cluster script and the docs agree on. No other file spells these names (test/unit/run-contract.test.ts).
export * from './workflow-ids.js';
export * from './search-attributes.js';
export * from './run-status.js';
export * from './memo.js';
