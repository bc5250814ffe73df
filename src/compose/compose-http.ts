import { DomainError } from '../domain/errors.js';

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
  if (response.status === 401 || response.status === 403) {
    throw new DomainError('ComposeAccessDenied', `${url} answered ${response.status} ${response.statusText}: the compose host refuses to serve it; make it readable to the worker`);
  }
  return response;
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
