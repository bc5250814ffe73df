/**
 * What went wrong when a container tool failed, as far as a retry is concerned:
 * - not-found: the image, tag or file does not exist;
 * - unauthorized: the registry refused our credentials (a retry will not fix it);
 * - transient: connection trouble, 5xx, 429: worth retrying with back-off;
 * - invalid-input: a bad reference, file or argument (a retry will not fix it);
 * - unknown: anything else; retried a bounded number of times.
 */
export type ToolErrorKind = 'not-found' | 'unauthorized' | 'transient' | 'invalid-input' | 'unknown';

export class ToolError extends Error {
  override readonly name = 'ToolError';
  constructor(
    readonly kind: ToolErrorKind,
    readonly tool: string,
    /** The command without secrets, for logs: e.g. "skopeo copy oci-archive:/x docker://host/repo:tag". */
    readonly command: string,
    readonly stderr: string,
    readonly exitCode: number | undefined,
  ) {
    super(
      `${command} failed (${kind}${exitCode === undefined ? '' : `, exit ${exitCode}`}): ${lastMeaningfulLine(stderr)}`,
    );
  }

  get retryable(): boolean {
    return this.kind === 'transient' || this.kind === 'unknown';
  }
}

const PATTERNS: Array<[ToolErrorKind, RegExp]> = [
  [
    'unauthorized',
    /unauthorized|authentication required|access denied|denied:|requested access to the resource is denied|\b401\b|\b403\b/i,
  ],
  ['invalid-input', /x509:|certificate signed by unknown authority|server gave HTTP response to HTTPS client/i],
  ['not-found', /manifest unknown|name unknown|image not known|not found|no such file|does not exist|\b404\b/i],
  [
    'transient',
    /connection refused|connection reset|i\/o timeout|timeout|timed out|temporary failure|\bEOF\b|toomanyrequests|too many requests|\b429\b|\b50[0234]\b|service unavailable|bad gateway|TLS handshake|no route to host|broken pipe/i,
  ],
  [
    'invalid-input',
    /invalid reference|invalid argument|invalid image|parsing image name|must be lowercase|unknown flag|unsupported|invalid character|malformed/i,
  ],
];

export function classifyToolFailure(stderr: string): ToolErrorKind {
  for (const [kind, pattern] of PATTERNS) {
    if (pattern.test(stderr)) return kind;
  }
  return 'unknown';
}

function lastMeaningfulLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const line = lines.at(-1) ?? '(no error output)';
  const fatal = /msg="(.*)"$/.exec(line);
  return (fatal?.[1] ?? line).replace(/\\"/g, '"');
}
