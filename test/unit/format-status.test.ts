import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../src/cli/format-status.js';
import type { PublishStatus } from '../../src/workflows/messages.js';

describe('formatStatus', () => {
  it('says why a configured repository got nothing from the compose, instead of a bare noop', () => {
    const status: PublishStatus = {
      composeId: 'Fedora-43-20251023.0',
      release: '43',
      manifestTags: ['43', 'latest'],
      phase: 'done',
      rejectedOverrides: [],
      repositories: [
        {
          repository: 'fedora',
          decision: 'noop',
          built: [],
          published: [],
          missing: [],
          pushed: [],
          manifests: [],
          skipped: ['Container_Base: 4 entries of type container skipped, not a container image type ([images] types: docker)'],
        },
      ],
    };
    expect(formatStatus(status)).toContain(
      'not published from this compose:\n  fedora: Container_Base: 4 entries of type container skipped, not a container image type ([images] types: docker)',
    );
  });
});
