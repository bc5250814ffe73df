import js from '@eslint/js';
import tseslint from 'typescript-eslint';

import { importLayers } from './eslint/import-layers.js';

const ALL_LAYERS = [
  'domain',
  'tools',
  'observability',
  'compose',
  'config',
  'activities',
  'workflows',
  'worker',
  'client',
  'listener',
  'cli',
  'dev',
];
const except = (...allowed) => ALL_LAYERS.filter((layer) => !allowed.includes(layer));

/**
 * The layers (folders of src/), and those each may not import from (README, "How the code is laid out"):
 * domain ← compose, tools ← activities ← workflows (types only) … worker.ts; client ← listener, cli; dev is for cli and tests.
 */
const LAYERS = {
  srcDir: `${import.meta.dirname}/src`,
  forbidden: {
    domain: except('domain'),
    tools: except('domain', 'tools'),
    observability: except('domain', 'tools', 'observability'),
    compose: except('domain', 'tools', 'compose'),
    config: except('domain', 'tools', 'config'),
    activities: ['workflows', 'client', 'listener', 'cli', 'dev', 'config', 'worker'],
    worker: ['client', 'listener', 'cli', 'dev', 'compose'],
    client: ['activities', 'listener', 'cli', 'dev', 'worker', 'tools'],
    listener: ['activities', 'cli', 'dev', 'worker'],
    dev: ['activities', 'workflows', 'listener', 'cli', 'worker'],
  },
  // Workflow code is deterministic: values from src/domain only, types from the activities and the rest.
  valuesFrom: { workflows: ['domain'] },
  packages: { workflows: '^@temporalio/workflow$', domain: '^zod$' },
  packageWhy: {
    workflows: 'workflow code is deterministic and may import only @temporalio/workflow (and src/domain).',
    domain: 'src/domain is pure: no I/O, no packages (zod is allowed for parsing).',
  },
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tools/', '.data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    // Build scripts run against dist/, which does not exist yet when lint runs: linted without type information.
    // So is the benchmark's CLI probe, which node runs without tsx (it times the CLI's own imports).
    files: ['scripts/**/*.mjs', 'bench/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { console: 'readonly', process: 'readonly', performance: 'readonly', URL: 'readonly' },
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'Date',
          property: 'now',
          message: 'Workflow code reads time from workflowInfo() or sleep(), not the clock.',
        },
        {
          object: 'Math',
          property: 'random',
          message: 'Workflow code uses uuid4() from @temporalio/workflow, not Math.random.',
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { layers: { rules: { 'import-layers': importLayers } } },
    rules: { 'layers/import-layers': ['error', LAYERS] },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { URL: 'readonly', process: 'readonly', console: 'readonly' },
    },
  },
);
