import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/**
 * A forward proxy as operators put in front of workers: CONNECT tunnels (https targets) and absolute-form requests
 * (http targets). It resolves names itself, as a proxy does: `*.proxied.test` is 127.0.0.1, a name only it knows, so
 * a request that reaches a registry by that name went through it.
 */
export interface ForwardProxy {
  url: string;
  /** "CONNECT host:port", or "METHOD absolute-url", in the order they came. */
  handled: string[];
  close(): Promise<void>;
}

export interface ForwardProxyOptions {
  /** Proxy-Authorization the proxy asks for ("Basic …"); without it, a 407. */
  credentials?: { user: string; password: string };
  /** Refuse every CONNECT with a 403, as a proxy allowing tunnels to port 443 only does to a registry on 5000. */
  refuseTunnels?: boolean;
}

export const PROXIED_DOMAIN = 'proxied.test';

export async function startForwardProxy(options: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  const handled: string[] = [];
  const expected = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')}`
    : undefined;
  const resolve = (host: string) => (host.endsWith(`.${PROXIED_DOMAIN}`) ? '127.0.0.1' : host);
  const server: Server = createServer((incoming, outgoing) => {
    handled.push(`${incoming.method} ${incoming.url}`);
    if (expected && incoming.headers['proxy-authorization'] !== expected)
      return void outgoing.writeHead(407, { 'proxy-authenticate': 'Basic realm="proxy"' }).end();
    const target = new URL(incoming.url ?? '/');
    const headers = { ...incoming.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const forwarded = httpRequest(
      {
        host: resolve(target.hostname),
        port: target.port || 80,
        method: incoming.method,
        path: `${target.pathname}${target.search}`,
        headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.writeHead(502).end());
    incoming.pipe(forwarded);
  });
  const tunnels = new Set<Socket>();
  server.on('connect', (incoming, client: Socket, head) => {
    handled.push(`CONNECT ${incoming.url}`);
    tunnels.add(client);
    client.on('close', () => tunnels.delete(client));
    if (expected && incoming.headers['proxy-authorization'] !== expected)
      return void client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\n\r\n',
      );
    if (options.refuseTunnels) return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    const [host = '', port = '443'] = (incoming.url ?? '').split(':');
    const upstream = connect(Number(port), resolve(host), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    handled,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        for (const tunnel of tunnels) tunnel.destroy();
        server.close(() => done());
      }),
  };
}
