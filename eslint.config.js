import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const workflowImportRule = {
  patterns: [
    {
      regex: '^(?!\\.|@temporalio/workflow$)',
      message:
        'Workflow code is deterministic: it may import only @temporalio/workflow, src/domain and activity types.',
    },
    {
      regex: '^\\.\\./(?!domain/)',
      allowTypeImports: true,
      message: 'Workflow code may import only types from outside src/workflows and src/domain (use `import type`).',
    },
  ],
};

/**
 * The layers, and the folders each may not import from (relative imports only; see README "How the code is laid out"):
 * domain ← compose, tools ← activities ← workflows (types only) … worker.ts; client ← listener, cli; dev is for cli and tests.
 */
const LAYERS = {
  'src/tools/**/*.ts': [
    'compose',
    'activities',
    'workflows',
    'client',
    'listener',
    'cli',
    'dev',
    'observability',
    'config',
    'worker',
  ],
  'src/observability/**/*.ts': [
    'compose',
    'activities',
    'workflows',
    'client',
    'listener',
    'cli',
    'dev',
    'config',
    'worker',
  ],
  'src/compose/**/*.ts': [
    'activities',
    'workflows',
    'client',
    'listener',
    'cli',
    'dev',
    'observability',
    'config',
    'worker',
  ],
  'src/config.ts': [
    'compose',
    'activities',
    'workflows',
    'client',
    'listener',
    'cli',
    'dev',
    'observability',
    'worker',
  ],
  'src/activities/**/*.ts': ['workflows', 'client', 'listener', 'cli', 'dev', 'config', 'worker'],
  'src/worker.ts': ['client', 'listener', 'cli', 'dev', 'compose'],
  'src/client/**/*.ts': ['activities', 'listener', 'cli', 'dev', 'worker', 'tools'],
  'src/listener/**/*.ts': ['activities', 'cli', 'dev', 'worker'],
  'src/dev/**/*.ts': ['activities', 'workflows', 'listener', 'cli', 'worker'],
};

function layerRule(forbidden) {
  return {
    patterns: [
      {
        regex: `^(\\.\\./)+(${forbidden.join('|')})(/|\\.js$)`,
        message: `Imports go one way only (README, "How the code is laid out"): this layer may not import from ${forbidden.join(', ')}.`,
      },
    ],
  };
}

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
    files: ['scripts/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: { console: 'readonly' } },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', workflowImportRule],
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
    files: ['src/domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\./|zod$)',
              message:
                'src/domain is pure: no I/O and no imports from outside src/domain (zod is allowed for parsing).',
            },
          ],
        },
      ],
    },
  },
  ...Object.entries(LAYERS).map(([files, forbidden]) => ({
    files: [files],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', layerRule(forbidden)] },
  })),
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { URL: 'readonly', process: 'readonly', console: 'readonly' },
    },
  },
);
