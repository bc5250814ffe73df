import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const workflowImportRule = {
  patterns: [
    {
      regex: '^(?!\\.|@temporalio/workflow$)',
      message: 'Workflow code is deterministic: it may import only @temporalio/workflow, src/domain and activity types.',
    },
    {
      regex: '^\\.\\./(?!domain/)',
      allowTypeImports: true,
      message: 'Workflow code may import only types from outside src/workflows and src/domain (use `import type`).',
    },
  ],
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
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', workflowImportRule],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'Workflow code reads time from workflowInfo() or sleep(), not the clock.' },
        { object: 'Math', property: 'random', message: 'Workflow code uses uuid4() from @temporalio/workflow, not Math.random.' },
      ],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ regex: '^(?!\\./|zod$)', message: 'src/domain is pure: no I/O and no imports from outside src/domain (zod is allowed for parsing).' }],
      }],
    },
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
