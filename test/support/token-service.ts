import { sign, X509Certificate, createPrivateKey, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A registry token service on loopback, as quay.io and Docker Hub run one: checks basic credentials, and answers
 * with a JWT (RS256, the signing certificate in `x5c`) granting the scope asked for, which the distribution
 * registry's `auth: token` verifies against its rootcertbundle. Records every request it got.
 */
export async function startTokenService(options: {
  /** The signing certificate and key (PEM files); the registry's rootcertbundle must hold the certificate. */
  certificate: string;
  key: string;
  issuer: string;
  service: string;
  user: string;
  password: string;
}) {
  const key = createPrivateKey(readFileSync(options.key));
  const x5c = [new X509Certificate(readFileSync(options.certificate)).raw.toString('base64')];
  const requests: Array<{ scope: string | null; service: string | null; authorized: boolean }> = [];
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const server = createServer((incoming, outgoing) => {
    const url = new URL(incoming.url ?? '/', 'http://token.invalid');
    const expected = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
    const authorized = incoming.headers.authorization === expected;
    const scope = url.searchParams.get('scope');
    requests.push({ scope, service: url.searchParams.get('service'), authorized });
    if (!authorized) {
      outgoing.writeHead(401, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'wrong credentials' }] }));
      return;
    }
    const [type, name, actions] = (scope ?? '').split(':');
    const now = Math.floor(Date.now() / 1000);
    const header = encode({ typ: 'JWT', alg: 'RS256', x5c });
    const claims = encode({
      iss: options.issuer,
      sub: options.user,
      aud: options.service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access: type === 'repository' && name ? [{ type, name, actions: (actions ?? '').split(',') }] : [],
    });
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), key).toString('base64url');
    outgoing.writeHead(200, { 'content-type': 'application/json' });
    outgoing.end(JSON.stringify({ token: `${header}.${claims}.${signature}`, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    realm: `http://${host}/token`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
