import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { proxyFor, ProxySettingError, type ProxyEnvironment } from './proxy-environment.js';
import { parseAuthChallenge, tokenOf, tokenUrl, type AuthChallenge } from './registry-auth.js';
import { ToolError, type ToolErrorKind } from './tool-error.js';

/**
 * The registry API spoken by the worker itself: blobs, manifests, tag lists, image configs, manifest writes (a request
 * costs a few milliseconds here, where a skopeo process costs 20–30 ms of CPU to start). It behaves as skopeo does
 * for one registry: `tls_verify = false` tries HTTPS without checking the certificate, then plain HTTP; `cert_dir`
 * adds the CAs of its `*.crt` files and the client certificate of its `*.cert`/`*.key` pair; basic and bearer-token
 * authentication; HTTPS_PROXY, HTTP_PROXY and NO_PROXY of the worker's environment (proxy-environment.ts).
 */
export interface RegistryEndpoint {
  /** host[:port], as image references spell it. */
  host: string;
  tlsVerify: boolean;
  certDir?: string;
  credentials?: { user: string; password: string };
  proxies?: ProxyEnvironment;
}

export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'PUT';
  /** The path under the registry, starting with /v2/. */
  path: string;
  /** "pull" or "pull,push": the access a bearer token must grant for this request. */
  access: 'pull' | 'pull,push';
  /** The repository the request is about (namespace/name), for the token's scope. */
  repository: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** A file sent as the body, read as it is sent (an image's blob). */
  bodyFile?: { path: string; size: number };
  /** The largest answer this request accepts: the registry is not trusted to send a bounded one. */
  maxBytes: number;
  signal?: AbortSignal;
}

export interface RegistryAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const REQUEST_TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 5;
const MAX_TOKEN_BYTES = 1 << 20;

/**
 * Sends one request to a registry, authenticating as its challenge asks, following redirects of reads, and
 * returns the answer of any status the caller asked about (`expect`); any other status is a ToolError of the kind a
 * retry needs to know (404 not-found, 401/403 unauthorized, 429/5xx transient).
 */
export async function registryRequest(
  endpoint: RegistryEndpoint,
  request: RegistryRequest,
  expect: number[] = [200, 201, 202],
): Promise<RegistryAnswer> {
  const scheme = await schemeOf(endpoint, request.signal).catch((error: unknown) => {
    throw error instanceof NetworkError
      ? new ToolError(error.kind, 'registry', `GET https://${endpoint.host}/v2/`, error.message, undefined)
      : error;
  });
  const url = new URL(`${scheme}://${endpoint.host}${request.path}`);
  const described = `${request.method} ${url.href}`;
  const authKey = `${endpointKey(endpoint)} ${credentialsKey(endpoint)} ${request.repository} ${request.access}`;
  let answer = await send(endpoint, url, request, authorizations.get(authKey), described);
  if (answer.status === 401) {
    const challenge = parseAuthChallenge(headerOf(answer.headers, 'www-authenticate'));
    const authorization = challenge && (await authorize(endpoint, challenge, request, described));
    if (authorization) {
      authorizations.set(authKey, authorization);
      answer = await send(endpoint, url, request, authorization, described);
    }
  }
  if (expect.includes(answer.status)) return answer;
  if (answer.status === 407)
    throw new ToolError('unauthorized', 'registry', described, PROXY_AUTHENTICATION, undefined);
  throw new ToolError(kindOfStatus(answer.status), 'registry', described, detailOf(answer), undefined);
}

const PROXY_AUTHENTICATION =
  "the proxy asks for credentials (HTTP 407): give them in the worker's HTTP(S)_PROXY, as http://user:password@host:port";

/** Authorization headers that worked, per registry, credentials, repository and access: sent first next time (a token that expired gets a 401 and is replaced). */
const authorizations = new Map<string, string>();
const schemes = new Map<string, Promise<'https' | 'http'>>();
const agents = new Map<string, http.Agent>();

/**
 * HTTPS, or for a registry whose tls_verify is false and that does not speak TLS, plain HTTP (as skopeo does): found
 * once per registry and remembered. A registry that answers neither is tried again next time.
 */
function schemeOf(endpoint: RegistryEndpoint, signal?: AbortSignal): Promise<'https' | 'http'> {
  if (endpoint.tlsVerify) return Promise.resolve('https');
  const key = endpointKey(endpoint);
  let found = schemes.get(key);
  if (!found) {
    found = (async () => {
      const ping = (scheme: 'https' | 'http') =>
        roundTrip(endpoint, new URL(`${scheme}://${endpoint.host}/v2/`), { method: 'GET', maxBytes: 1 << 16, signal });
      try {
        await ping('https');
        return 'https' as const;
      } catch (httpsError) {
        if (!(httpsError instanceof NetworkError)) throw httpsError;
        await ping('http').catch(() => Promise.reject(httpsError));
        return 'http' as const;
      }
    })();
    schemes.set(key, found);
    found.catch(() => schemes.delete(key));
  }
  return found;
}

async function send(
  endpoint: RegistryEndpoint,
  url: URL,
  request: RegistryRequest,
  authorization: string | undefined,
  described: string,
): Promise<RegistryAnswer> {
  let target = url;
  let sendAuthorization = authorization;
  for (let redirects = 0; ; redirects++) {
    const answer = await roundTrip(endpoint, target, {
      method: request.method,
      headers: { ...request.headers, ...(sendAuthorization ? { authorization: sendAuthorization } : {}) },
      ...(request.body ? { body: request.body } : {}),
      ...(request.bodyFile ? { bodyFile: request.bodyFile } : {}),
      maxBytes: request.maxBytes,
      ...(request.signal ? { signal: request.signal } : {}),
    }).catch((error: unknown) => {
      throw error instanceof NetworkError
        ? new ToolError(error.kind, 'registry', described, error.message, undefined)
        : error;
    });
    const location = headerOf(answer.headers, 'location');
    const read = request.method === 'GET' || request.method === 'HEAD';
    if (!read || ![301, 302, 303, 307, 308].includes(answer.status) || !location) return answer;
    if (redirects >= MAX_REDIRECTS)
      throw new ToolError('unknown', 'registry', described, `more than ${MAX_REDIRECTS} redirects`, undefined);
    const next = new URL(location, target);
    // A redirect to a blob store elsewhere gets no credentials of this registry.
    if (next.host !== target.host) sendAuthorization = undefined;
    target = next;
  }
}

/** The Authorization header a challenge asks for, or undefined when this worker has nothing to answer it with. */
async function authorize(
  endpoint: RegistryEndpoint,
  challenge: AuthChallenge,
  request: RegistryRequest,
  described: string,
): Promise<string | undefined> {
  const basic = endpoint.credentials
    ? `Basic ${Buffer.from(`${endpoint.credentials.user}:${endpoint.credentials.password}`).toString('base64')}`
    : undefined;
  if (challenge.scheme === 'basic') return basic;
  const url = tokenUrl({ ...challenge, scope: `repository:${request.repository}:${request.access}` });
  // A token service on the registry's own host is reached as the registry is (its TLS settings); any other only with
  // a verified certificate. Credentials go to it only over TLS, or on the registry's own host.
  const sameHost = url.hostname === new URL(`http://${endpoint.host}`).hostname;
  const sendCredentials = basic && (url.protocol === 'https:' || sameHost);
  const tokenEndpoint: RegistryEndpoint = sameHost
    ? { ...endpoint, host: url.host }
    : { host: url.host, tlsVerify: true, ...(endpoint.proxies ? { proxies: endpoint.proxies } : {}) };
  const answer = await roundTrip(tokenEndpoint, url, {
    method: 'GET',
    headers: sendCredentials ? { authorization: basic } : {},
    maxBytes: MAX_TOKEN_BYTES,
    ...(request.signal ? { signal: request.signal } : {}),
  }).catch((error: unknown) => {
    throw error instanceof NetworkError
      ? new ToolError(error.kind, 'registry', `token for ${described}`, error.message, undefined)
      : error;
  });
  if (answer.status !== 200)
    throw new ToolError(
      kindOfStatus(answer.status),
      'registry',
      `token for ${described}`,
      `the token service ${url.origin}${url.pathname} answered ${detailOf(answer)}`,
      undefined,
    );
  let token: string | undefined;
  try {
    token = tokenOf(JSON.parse(answer.body.toString('utf8')));
  } catch {
    token = undefined;
  }
  if (!token)
    throw new ToolError(
      'unknown',
      'registry',
      `token for ${described}`,
      `the token service ${url.origin}${url.pathname} sent no token`,
      undefined,
    );
  return `Bearer ${token}`;
}

/** A request that got no HTTP answer: refused, reset, timed out, a TLS failure. */
class NetworkError extends Error {
  constructor(
    readonly kind: ToolErrorKind,
    message: string,
  ) {
    super(message);
  }
}

interface RoundTrip {
  method: string;
  headers?: Record<string, string>;
  body?: Buffer;
  bodyFile?: { path: string; size: number };
  maxBytes: number;
  signal?: AbortSignal | undefined;
}

function roundTrip(endpoint: RegistryEndpoint, url: URL, options: RoundTrip): Promise<RegistryAnswer> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(options.signal.reason as Error);
    const secure = url.protocol === 'https:';
    let agent: http.Agent;
    try {
      agent = agentFor(endpoint, url);
    } catch (error) {
      if (error instanceof ProxySettingError) return reject(new NetworkError('invalid-input', error.message));
      throw error;
    }
    const request = (secure ? https : http).request(url, {
      method: options.method,
      agent,
      headers: {
        'user-agent': 'compose-publisher',
        ...options.headers,
        ...(options.method === 'GET' || options.method === 'HEAD'
          ? {}
          : { 'content-length': String(options.bodyFile?.size ?? options.body?.length ?? 0) }),
      },
      timeout: REQUEST_TIMEOUT_MS,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    // A proxy that will not open a tunnel answers for the registry: that is a failure to reach it, as in Go.
    // (http targets go through the proxy without a tunnel: their event has no status.)
    request.on('proxyConnect', (connect: { statusCode?: number; statusText?: string }) => {
      if (connect.statusCode === undefined || connect.statusCode === 200) return;
      request.destroy(
        connect.statusCode === 407
          ? new NetworkError('unauthorized', PROXY_AUTHENTICATION)
          : new NetworkError(
              'unknown',
              `the proxy refused to connect to ${url.host}: ${connect.statusCode} ${connect.statusText ?? ''}`.trim(),
            ),
      );
    });
    request.on('timeout', () =>
      request.destroy(new NetworkError('transient', `no answer within ${REQUEST_TIMEOUT_MS / 1000} s (timeout)`)),
    );
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof NetworkError) return reject(error);
      if (options.signal?.aborted) return reject(options.signal.reason as Error);
      reject(new NetworkError(kindOfNetworkError(error, secure), `${error.code ?? 'error'}: ${error.message}`));
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          request.destroy(
            new NetworkError(
              'invalid-input',
              `the answer is larger than ${options.maxBytes} bytes, more than this request accepts`,
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.on('error', (error) => request.destroy(error));
    });
    if (!options.bodyFile) return void request.end(options.body);
    const file = createReadStream(options.bodyFile.path);
    file.on('error', (error) => request.destroy(error));
    file.pipe(request);
  });
}

function agentFor(endpoint: RegistryEndpoint, url: URL): http.Agent {
  const secure = url.protocol === 'https:';
  const ownHost = url.host === endpoint.host;
  const proxy = proxyFor(url, endpoint.proxies);
  const key = `${url.protocol}//${url.host} ${ownHost ? endpointKey(endpoint) : 'verify'} ${proxy?.href ?? 'direct'}`;
  let agent = agents.get(key);
  if (!agent) {
    const common = { keepAlive: true, maxSockets: 16 };
    const tls = secure && ownHost ? tlsOptions(endpoint) : {};
    if (proxy) agent = secure ? new HttpsProxyAgent(proxy, { ...common, ...tls }) : new HttpProxyAgent(proxy, common);
    else agent = secure ? new https.Agent({ ...common, ...tls }) : new http.Agent(common);
    agents.set(key, agent);
  }
  return agent;
}

/** TLS as containers/image sets it up from a cert dir: its *.crt are CAs beside the usual ones, *.cert/*.key a client certificate. */
function tlsOptions(endpoint: RegistryEndpoint): https.AgentOptions {
  if (!endpoint.tlsVerify) return { rejectUnauthorized: false };
  const dir = endpoint.certDir;
  if (!dir || !existsSync(dir)) return {};
  const files = readdirSync(dir).sort();
  const cas = files.filter((file) => file.endsWith('.crt')).map((file) => readFileSync(join(dir, file), 'utf8'));
  const cert = files.find((file) => file.endsWith('.cert'));
  const key = cert && files.find((file) => file === cert.replace(/\.cert$/, '.key'));
  return {
    ...(cas.length > 0 ? { ca: [...rootCertificates, ...cas] } : {}),
    ...(cert && key ? { cert: readFileSync(join(dir, cert)), key: readFileSync(join(dir, key)) } : {}),
  };
}

/** Which credentials a remembered Authorization header came from: another password must not reuse it. */
function credentialsKey(endpoint: RegistryEndpoint): string {
  const { credentials } = endpoint;
  return credentials
    ? createHash('sha256').update(`${credentials.user}\0${credentials.password}`).digest('hex')
    : 'anonymous';
}

function endpointKey(endpoint: RegistryEndpoint): string {
  return `${endpoint.host} ${endpoint.tlsVerify} ${endpoint.certDir ?? ''} ${JSON.stringify(endpoint.proxies ?? {})}`;
}

function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function kindOfStatus(status: number): ToolErrorKind {
  if (status === 404) return 'not-found';
  if (status === 401 || status === 403 || status === 407) return 'unauthorized';
  if (status === 408 || status === 429 || status >= 500) return 'transient';
  return 'unknown';
}

function kindOfNetworkError(error: NodeJS.ErrnoException, secure: boolean): ToolErrorKind {
  const code = error.code ?? '';
  if (/^(CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_TLS_CERT)/.test(code)) return 'invalid-input';
  if (secure && code === 'EPROTO') return 'invalid-input';
  if (code === 'ENOTFOUND') return 'unknown';
  return 'transient';
}

/** "HTTP 404: MANIFEST_UNKNOWN manifest unknown", from the distribution spec's error body when there is one. */
function detailOf(answer: RegistryAnswer): string {
  let errors = '';
  try {
    const parsed = JSON.parse(answer.body.toString('utf8')) as {
      errors?: Array<{ code?: unknown; message?: unknown }>;
    };
    errors = (parsed.errors ?? [])
      .map((error) => [error.code, error.message].filter((part) => typeof part === 'string').join(' '))
      .join('; ');
  } catch {
    errors = '';
  }
  return `HTTP ${answer.status}${errors ? `: ${errors.slice(0, 300)}` : ''}`;
}
