// The worker reaches registries through the proxy skopeo on the same host would use: Go's rules for HTTP(S)_PROXY
// and NO_PROXY (golang.org/x/net/http/httpproxy), checked case by case and as properties.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { proxyEnvironment, proxyFor, ProxySettingError } from '../../src/tools/proxy-environment.js';

const PROXY = 'http://proxy.example:3128';
const via = (url: string, noProxy?: string) =>
  proxyFor(new URL(url), { http: PROXY, https: PROXY, ...(noProxy === undefined ? {} : { noProxy }) })?.href;

describe('proxyEnvironment', () => {
  it('reads the upper-case name first, then the lower-case one, and nothing without a proxy', () => {
    expect(proxyEnvironment({ HTTPS_PROXY: 'http://a:1', https_proxy: 'http://b:2', no_proxy: 'x' })).toEqual({
      https: 'http://a:1',
      noProxy: 'x',
    });
    expect(proxyEnvironment({ http_proxy: 'http://b:2' })).toEqual({ http: 'http://b:2' });
    expect(proxyEnvironment({ NO_PROXY: '*' })).toBeUndefined();
    expect(proxyEnvironment({ HTTPS_PROXY: '' })).toBeUndefined();
  });
});

describe('proxyFor', () => {
  it('takes HTTPS_PROXY for https and HTTP_PROXY for http', () => {
    const proxies = { http: 'http://plain:80', https: 'http://secure:3128' };
    expect(proxyFor(new URL('https://quay.io/v2/'), proxies)?.href).toBe('http://secure:3128/');
    expect(proxyFor(new URL('http://quay.io/v2/'), proxies)?.href).toBe('http://plain/');
    expect(proxyFor(new URL('http://quay.io/v2/'), { https: 'http://secure:3128' })).toBeUndefined();
  });

  it('reads a proxy without a scheme as http, as Go does', () => {
    expect(proxyFor(new URL('https://quay.io/'), { https: 'proxy.example:3128' })?.href).toBe(
      'http://proxy.example:3128/',
    );
  });

  it('never proxies localhost or loopback addresses', () => {
    for (const url of ['http://localhost:5000/', 'http://127.0.0.1:5000/', 'https://127.1.2.3/', 'http://[::1]:5000/'])
      expect(via(url), url).toBeUndefined();
    expect(via('https://10.0.0.1/')).toBe(`${PROXY}/`);
  });

  it('follows NO_PROXY: *, domains with their subdomains, .domains for subdomains only, ports, IPs, CIDRs', () => {
    const cases: Array<[string, string, boolean]> = [
      ['https://quay.io/', '*', false],
      ['https://quay.io/', 'quay.io', false],
      ['https://cdn.quay.io/', 'quay.io', false],
      ['https://notquay.io/', 'quay.io', true],
      ['https://quay.io/', '.quay.io', true],
      ['https://cdn.quay.io/', '.quay.io', false],
      ['https://cdn.quay.io/', '*.quay.io', false],
      ['https://quay.io/', 'quay.io:443', false],
      ['https://quay.io/', 'quay.io:5000', true],
      ['http://registry.internal:5000/', 'registry.internal:5000', false],
      ['https://10.1.2.3/', '10.0.0.0/8', false],
      ['https://11.1.2.3/', '10.0.0.0/8', true],
      ['https://10.1.2.3/', '10.1.2.3', false],
      ['https://[fd00::5]/', 'fd00::/8', false],
      ['https://[fe80::5]/', 'fd00::/8', true],
      ['https://QUAY.io/', ' example.org , QUAY.IO ', false],
      ['https://quay.io/', '', true],
    ];
    for (const [url, noProxy, proxied] of cases)
      expect(via(url, noProxy), `${url} with NO_PROXY=${noProxy}`).toBe(proxied ? `${PROXY}/` : undefined);
  });

  it('goes direct to every host NO_PROXY names, whatever else it names', () => {
    const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
    const host = fc.array(label, { minLength: 2, maxLength: 4 }).map((labels) => labels.join('.'));
    fc.assert(
      fc.property(host, fc.array(host, { maxLength: 4 }), (named, others) => {
        const noProxy = [...others, named].sort().join(',');
        expect(via(`https://${named}/v2/`, noProxy)).toBeUndefined();
        expect(via(`https://sub.${named}/v2/`, noProxy)).toBeUndefined();
      }),
    );
  });

  it('refuses a proxy the worker cannot speak to, naming the variable', () => {
    expect(() => proxyFor(new URL('https://quay.io/'), { https: 'socks5://127.0.0.1:1080' })).toThrow(
      new ProxySettingError(
        "HTTPS_PROXY in the worker's environment names a socks5 proxy; the worker speaks to http and https proxies only: set it to http://host:port",
      ),
    );
  });
});
