import { DomainError, RetryLaterError } from '../domain/errors.js';

/**
 * GET or HEAD a file of a compose host. Network trouble (refused, DNS, TLS, reset) becomes a retryable error that
 * names the URL and the cause; 401/403 is final (credentials or permissions do not fix themselves), and so is
 * 404/410 (`missing` says what is not there). Other statuses are returned for the caller to judge.
 */
export async function fetchComposeFile(url: string, options: { method?: 'GET' | 'HEAD'; signal?: AbortSignal | undefined; missing: (status: number) => DomainError }): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { method: options.method ?? 'GET', redirect: 'follow', ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new Error(`${url}: ${networkCause(error)}; will retry`);
  }
  if (response.status === 404 || response.status === 410) throw options.missing(response.status);
  const retryAfter = retryAfterMs(response);
  if ((response.status === 429 || response.status === 503) && retryAfter !== undefined) {
    await response.body?.cancel();
    throw new RetryLaterError(`${url} answered ${response.status} ${response.statusText} with Retry-After ${response.headers.get('retry-after')}; will retry then`, retryAfter);
  }
  if (response.status === 401 || response.status === 403) {
    throw new DomainError('ComposeAccessDenied', `${url} answered ${response.status} ${response.statusText}: the compose host refuses to serve it; make it readable to the worker`);
  }
  return response;
}

/** Retry-After in seconds or as an HTTP date, bounded to an hour; undefined when absent or unreadable. */
function retryAfterMs(response: Response): number | undefined {
  const header = response.headers.get('retry-after');
  if (header === null) return undefined;
  const delay = /^\d+$/.test(header.trim()) ? Number(header.trim()) * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(delay) ? Math.min(Math.max(delay, 0), 60 * 60 * 1000) : undefined;
}

/** "fetch failed" says nothing: the cause (ECONNREFUSED 127.0.0.1:1, ENOTFOUND host, a certificate error) does. */
export function networkCause(error: unknown): string {
  const parts: string[] = [];
  for (let current = error; current instanceof Error && parts.length < 4; current = current.cause) {
    const code = (current as NodeJS.ErrnoException).code;
    parts.push(code && !current.message.includes(code) ? `${current.message} (${code})` : current.message);
  }
  return parts.filter((part) => part !== 'fetch failed').join(': ') || 'fetch failed';
}
