import { isIP } from 'node:net';

/** The proxy settings of the worker's environment, read as Go's net/http reads them (skopeo, cosign). */
export interface ProxyEnvironment {
  http?: string;
  https?: string;
  noProxy?: string;
}

/** HTTP_PROXY, HTTPS_PROXY and NO_PROXY (the upper-case name first, then the lower-case one, as Go does). */
export function proxyEnvironment(env: NodeJS.ProcessEnv): ProxyEnvironment | undefined {
  const read = (name: string) => env[name.toUpperCase()] || env[name.toLowerCase()] || undefined;
  const [http, https, noProxy] = [read('http_proxy'), read('https_proxy'), read('no_proxy')];
  if (!http && !https) return undefined;
  return { ...(http ? { http } : {}), ...(https ? { https } : {}), ...(noProxy ? { noProxy } : {}) };
}

/** A proxy setting that cannot be used: it names the variable and the fix. */
export class ProxySettingError extends Error {
  override readonly name = 'ProxySettingError';
}

/**
 * The proxy a request to `url` goes through, or undefined for a direct connection. The same rules as Go's
 * golang.org/x/net/http/httpproxy, so the worker reaches a registry the way skopeo on the same host would:
 * HTTPS_PROXY for https URLs, HTTP_PROXY for http ones; never for localhost or a loopback address; NO_PROXY is
 * `*`, or a comma-separated list of hosts (`example.com` also covers its subdomains, `.example.com` only them),
 * IP addresses and CIDR ranges, each optionally with `:port`.
 */
export function proxyFor(url: URL, proxies: ProxyEnvironment | undefined): URL | undefined {
  const setting = url.protocol === 'https:' ? proxies?.https : url.protocol === 'http:' ? proxies?.http : undefined;
  if (!setting) return undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (host === 'localhost' || isLoopback(host)) return undefined;
  if (excluded(host, port, proxies?.noProxy ?? '')) return undefined;
  return parseProxy(setting, url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY');
}

function parseProxy(setting: string, variable: string): URL {
  let proxy: URL | undefined;
  try {
    proxy = new URL(setting);
  } catch {
    proxy = undefined;
  }
  // Go reads "proxy.example:3128" as "http://proxy.example:3128".
  if (!proxy || !['http:', 'https:', 'socks5:'].includes(proxy.protocol) || !proxy.hostname) {
    try {
      proxy = new URL(`http://${setting}`);
    } catch {
      throw new ProxySettingError(
        `${variable} in the worker's environment is not a proxy URL; set it to http://host:port (or unset it)`,
      );
    }
  }
  if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:')
    throw new ProxySettingError(
      `${variable} in the worker's environment names a ${proxy.protocol.slice(0, -1)} proxy; the worker speaks to http and https proxies only: set it to http://host:port`,
    );
  return proxy;
}

function excluded(host: string, port: string, noProxy: string): boolean {
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    if (entry.includes('/')) {
      if (isIP(host) && inCidr(host, entry)) return true;
      continue;
    }
    const { name, entryPort } = splitEntry(entry);
    if (entryPort && entryPort !== port) continue;
    if (isIP(name)) {
      if (name === host) return true;
      continue;
    }
    const domain = name.startsWith('*.') ? name.slice(1) : name;
    if (domain.startsWith('.') ? host.endsWith(domain) : host === domain || host.endsWith(`.${domain}`)) return true;
  }
  return false;
}

function splitEntry(entry: string): { name: string; entryPort?: string } {
  const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { name: bracketed[1]!, ...(bracketed[2] ? { entryPort: bracketed[2] } : {}) };
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  return withPort ? { name: withPort[1]!, entryPort: withPort[2]! } : { name: entry };
}

function isLoopback(host: string): boolean {
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host);
  return false;
}

function inCidr(host: string, cidr: string): boolean {
  const [network, bits] = cidr.split('/');
  const length = Number(bits);
  const a = addressBits(host);
  const b = network ? addressBits(network) : undefined;
  if (!a || !b || a.length !== b.length || !Number.isInteger(length) || length < 0 || length > a.length) return false;
  return a.slice(0, length) === b.slice(0, length);
}

/** An IPv4 or IPv6 address as a string of 32 or 128 bits; undefined for anything else. */
function addressBits(address: string): string | undefined {
  if (isIP(address) === 4)
    return address
      .split('.')
      .map((part) => Number(part).toString(2).padStart(8, '0'))
      .join('');
  if (isIP(address) !== 6) return undefined;
  const [head = '', tail] = address.split('::');
  const groups = (part: string) => (part ? part.split(':') : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  if (right.some((group) => group.includes('.')) || left.some((group) => group.includes('.'))) return undefined;
  const zeros = Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16).toString(2).padStart(16, '0')).join('');
}
