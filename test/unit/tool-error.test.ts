import { DomainError } from '../../src/domain/errors.js';
import { isRetryable } from '../../src/domain/failure-types.js';
import { runTool, toolNotStarted } from '../../src/tools/run-tool.js';
import { describe, expect, it } from 'vitest';
import { classifyToolFailure, ToolError } from '../../src/tools/tool-error.js';

// Messages as skopeo 1.9 and buildah 1.28 print them.
const CASES: Array<[string, string]> = [
  [
    'not-found',
    'time="…" level=fatal msg="Error parsing image name \\"docker://127.0.0.1:5999/fedora:40\\": reading manifest 40 in 127.0.0.1:5999/fedora: manifest unknown: manifest unknown"',
  ],
  ['not-found', 'Error: 1 error occurred:\n\t* nosuch: image not known'],
  [
    'transient',
    'pinging container registry 127.0.0.1:5998: Get "http://127.0.0.1:5998/v2/": dial tcp 127.0.0.1:5998: connect: connection refused',
  ],
  ['transient', 'writing blob: received unexpected HTTP status: 503 Service Unavailable'],
  ['transient', 'toomanyrequests: too many requests'],
  [
    'unauthorized',
    'reading manifest 40 in quay.io/fedora/fedora: unauthorized: access to the requested resource is not authorized',
  ],
  ['unauthorized', 'writing manifest: authentication required'],
  [
    'invalid-input',
    'Error parsing image name "docker://127.0.0.1:5999/Fed:40": invalid reference format: repository name must be lowercase',
  ],
  [
    'invalid-input',
    'pinging container registry quay.io: Get "https://quay.io/v2/": x509: certificate signed by unknown authority',
  ],
  ['unknown', 'something nobody has seen before'],
];

describe('classifyToolFailure', () => {
  it.each(CASES)('classifies as %s: %s', (kind, stderr) => {
    expect(classifyToolFailure(stderr)).toBe(kind);
  });

  it('retries only transient and unknown failures', () => {
    const retryable = (kind: ToolError['kind']) => new ToolError(kind, 'skopeo', 'skopeo copy', '', 1).retryable;
    expect(
      ['not-found', 'unauthorized', 'transient', 'invalid-input', 'unknown'].filter((k) =>
        retryable(k as ToolError['kind']),
      ),
    ).toEqual(['transient', 'unknown']);
  });

  it('shows the fatal message of a skopeo log line, not the log syntax', () => {
    const error = new ToolError(
      'not-found',
      'skopeo',
      'skopeo inspect',
      'time="x" level=fatal msg="reading manifest 40: manifest unknown"',
      1,
    );
    expect(error.message).toBe('skopeo inspect failed (not-found, exit 1): reading manifest 40: manifest unknown');
  });
});

describe('a tool the worker cannot start', () => {
  it("is the worker's fault (WorkerToolMissing, retried), not a failure of the tool", async () => {
    const failure = await runTool('no-such-tool-on-this-host', ['--version']).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DomainError);
    expect(failure).toMatchObject({
      type: 'WorkerToolMissing',
      message: expect.stringMatching(
        /^this worker could not start no-such-tool-on-this-host \(setpriv: failed to execute no-such-tool-on-this-host: No such file or directory\): .*Fix: install what scripts\/setup\.sh installs/,
      ) as unknown,
    });
    expect(isRetryable('WorkerToolMissing')).toBe(true);
  });

  it('says so when spawn itself fails, and not when the tool ran and failed', () => {
    expect(
      toolNotStarted(
        'tar',
        { code: 'ENOENT', shortMessage: 'Command failed with ENOENT: setpriv\nspawn setpriv ENOENT' },
        '',
      )?.type,
    ).toBe('WorkerToolMissing');
    expect(toolNotStarted('tar', { exitCode: 2 }, 'tar: This does not look like a tar archive')).toBeUndefined();
  });
});
