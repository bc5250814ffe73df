import { checkAllowedLocation, type AllowedLocations } from '../domain/allowed-location.js';
import { DomainError, RetryLaterError } from '../domain/errors.js';
import { proxyEnvironment, proxyFor } from '../tools/proxy-environment.js';

/** As many as fetch follows by itself. */
const MAX_REDIRECTS = 20;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface ComposeFileRequest {
  method?: 'GET' | 'HEAD';
  signal?: AbortSignal | undefined;
  missing: (status: number) => DomainError;
  /**
   * [compose] allowed_locations: the URL and every redirect's target must lie under one of these before it is
   * requested (UntrustedInput otherwise). Undefined: any location (the key is not set).
   */
  allowed: AllowedLocations | undefined;
}

/**
 * GET or HEAD a file of a compose host. Network trouble (refused, DNS, TLS, reset) becomes a retryable error that
 * names the URL and the cause; 401/403 is final (credentials or permissions do not fix themselves), and so is
 * 404/410 (`missing` says what is not there). Other statuses are returned for the caller to judge. Redirects are
 * followed here, one hop at a time, so that a host outside `allowed` is refused before it is asked anything.
 */
export async function fetchComposeFile(url: string, options: ComposeFileRequest): Promise<Response> {
  checkAllowedLocation(url, options.allowed, { what: 'the compose file' });
  let current = url;
  let response = await request(current, options);
  for (let hops = 0; REDIRECT_STATUSES.has(response.status) && response.headers.has('location'); hops++) {
    await response.body?.cancel();
    if (hops === MAX_REDIRECTS)
      throw new Error(`${url}: more than ${MAX_REDIRECTS} redirects (the last to ${current}); will retry`);
    const location = response.headers.get('location')!;
    const next = URL.canParse(location, current) ? new URL(location, current) : undefined;
    // fetch itself follows only http(s) redirects; any other is a network error, and so it is here.
    if (next?.protocol !== 'https:' && next?.protocol !== 'http:') {
      throw new Error(
        `${current} answered ${response.status} with Location ${JSON.stringify(location.slice(0, 200))}, not an http(s) URL; will retry`,
      );
    }
    checkAllowedLocation(next.href, options.allowed, { redirectedFrom: current });
    current = next.href;
    response = await request(current, options);
  }
  if (response.status === 404 || response.status === 410) throw options.missing(response.status);
  const retryAfter = retryAfterMs(response);
  if ((response.status === 429 || response.status === 503) && retryAfter !== undefined) {
    await response.body?.cancel();
    throw new RetryLaterError(
      `${url} answered ${response.status} ${response.statusText} with Retry-After ${response.headers.get('retry-after')}; will retry then`,
      retryAfter,
    );
  }
  if (response.status === 401 || response.status === 403) {
    throw new DomainError(
      'ComposeAccessDenied',
      `${url} answered ${response.status} ${response.statusText}: the compose host refuses to serve it; make it readable to the worker`,
    );
  }
  return response;
}

async function request(url: string, options: ComposeFileRequest): Promise<Response> {
  try {
    const dispatcher = await proxyDispatcher(new URL(url));
    return await fetch(url, {
      method: options.method ?? 'GET',
      redirect: 'manual',
      ...(options.signal ? { signal: options.signal } : {}),
      ...(dispatcher ? { dispatcher } : {}),
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new Error(`${url}: ${networkCause(error)}; will retry`);
  }
}

/** What node's fetch takes as `dispatcher`. */
type Dispatcher = NonNullable<RequestInit['dispatcher']>;

const proxyAgents = new Map<string, Promise<Dispatcher>>();

/**
 * The process's HTTPS_PROXY / HTTP_PROXY / NO_PROXY, by the same rules as the registry requests: a ProxyAgent of
 * undici, the version node's own fetch is built on, loaded only when a proxy applies.
 */
function proxyDispatcher(url: URL): Promise<Dispatcher | undefined> {
  const proxy = proxyFor(url, proxyEnvironment(process.env));
  if (!proxy) return Promise.resolve(undefined);
  let agent = proxyAgents.get(proxy.href);
  if (!agent) {
    agent = import('undici').then(({ ProxyAgent }) => new ProxyAgent(proxy.href));
    proxyAgents.set(proxy.href, agent);
  }
  return agent;
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
