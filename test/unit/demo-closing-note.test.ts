import { execaSync } from 'execa';
import { describe, expect, it } from 'vitest';
import { closingNote } from '../../src/cli/commands/demo.js';

describe("the demo's closing note", () => {
  const note = closingNote({
    uiUrl: 'http://127.0.0.1:8233',
    registryHost: '127.0.0.1:5000',
    configFile: "/tmp/it's demo/compose-publisher.toml",
    blocked: [{ composeId: 'Fedora-40-20240502.n.0', repository: 'fedora' }],
    keep: true,
  });

  it("links the UI's list with the blocked filter, quoted as the UI needs it", () => {
    const link = note.find((line) => line.startsWith('Temporal UI:'))!.split(/\s+/)[2]!;
    expect(new URL(link).searchParams.get('query')).toBe('`GateDecision` = "blocked"');
  });

  it('gives status and override commands that a shell reads as intended, with the config file it wrote', () => {
    const override = note.find((line) => line.includes(' override '))!.trim();
    const words = execaSync('bash', ['-c', `set -- ${override}; printf '%s\\n' "$@"`]).stdout.split('\n');
    expect(words).toEqual([
      'npx',
      'compose-publisher',
      '--config',
      "/tmp/it's demo/compose-publisher.toml",
      'override',
      'Fedora-40-20240502.n.0',
      '--repository',
      'fedora',
      '--mode',
      'hybrid',
      '--reason',
      'aarch64 build failed',
    ]);
    expect(
      note.some(
        (line) =>
          line.trim() ===
          `npx compose-publisher --config '/tmp/it'\\''s demo/compose-publisher.toml' status Fedora-40-20240502.n.0`,
      ),
    ).toBe(true);
    expect(note.at(-1)).toContain('Ctrl-C');
  });
});
