// The lint rule that keeps the layers of src/ one way, tried with the ways an import can be written.
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const linter = new Linter({ configType: 'flat' });
// The project's own config, as `npm run lint` reads it (plain JavaScript, without types: imported by a computed path).
const ESLINT_CONFIG = '../../eslint.config.js';
const config = ((await import(ESLINT_CONFIG)) as { default: Linter.Config[] }).default;
const layerConfig = config.find((entry) => entry.rules?.['layers/import-layers']);

function problems(file: string, code: string): string[] {
  return linter
    .verify(
      code,
      [
        { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
        { ...layerConfig!, files: ['**/*.ts'] },
      ],
      { filename: `${process.cwd()}/${file}` },
    )
    .map((message) => message.message);
}

describe('the import-layers lint rule', () => {
  it('is configured for src/', () => expect(layerConfig).toBeDefined());

  it.each([
    ['a static import', "import { x } from '../cli/main.js';"],
    ['a dynamic import()', "const m = await import('../cli/main.js');"],
    ['a detour through ./', "import { x } from './../cli/main.js';"],
    ['a detour out of src/', "import { x } from '../../src/cli/main.js';"],
    ['a re-export', "export { x } from '../cli/main.js';"],
    ['a computed dynamic import', 'const m = await import(process.argv[2]);'],
  ])('refuses %s from activities into cli', (_, code) => {
    expect(problems('src/activities/example.ts', code)).toHaveLength(1);
  });

  it('lets activities import domain and tools however written', () => {
    expect(
      problems(
        'src/activities/example.ts',
        "import { a } from '../domain/types.js';\nimport { b } from './../tools/skopeo.js';\nconst c = await import('../domain/tags.js');",
      ),
    ).toEqual([]);
  });

  it('lets workflow code import values from domain only, types from elsewhere, and no package but the SDK', () => {
    expect(problems('src/workflows/example.ts', "import type { A } from '../activities/index.js';")).toEqual([]);
    expect(problems('src/workflows/example.ts', "import { proxyActivities } from '@temporalio/workflow';")).toEqual([]);
    expect(problems('src/workflows/example.ts', "import { a } from '../domain/run-contract/index.js';")).toEqual([]);
    expect(problems('src/workflows/example.ts', "import { a } from '../activities/index.js';")[0]).toMatch(
      /only types/,
    );
    expect(problems('src/workflows/example.ts', "const fs = await import('node:fs');")[0]).toMatch(/deterministic/);
    expect(problems('src/workflows/example.ts', "import { readFile } from 'node:fs/promises';")[0]).toMatch(
      /deterministic/,
    );
  });

  it('keeps src/domain pure, its subfolders included', () => {
    expect(problems('src/domain/run-contract/example.ts', "import type { A } from '../types.js';")).toEqual([]);
    expect(problems('src/domain/example.ts', "import { z } from 'zod';")).toEqual([]);
    expect(problems('src/domain/run-contract/example.ts', "import { a } from '../../tools/skopeo.js';")[0]).toMatch(
      /may not import from src\/tools/,
    );
    expect(problems('src/domain/example.ts', "import { execa } from 'execa';")[0]).toMatch(/pure/);
  });
});
