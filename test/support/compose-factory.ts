import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { join, normalize, sep } from 'node:path';

export {
  makeCompose,
  OCI_ARCH,
  type ComposeSpec,
  type MadeCompose,
  type MadeImage,
} from '../../src/dev/sample-compose.js';

/**
 * Serves a compose directory over HTTP on 127.0.0.1, as a compose host would. `slowImagesMs` holds back every
 * image file that long (a slow mirror), for tests that need an activity in flight; `busyImages` answers the first
 * `times` image requests 429 with a Retry-After.
 */
export async function serveCompose(
  root: string,
  options: { slowImagesMs?: number; busyImages?: { times: number; retryAfter: string } } = {},
): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  /** "GET /path", "HEAD /path", … */
  const requests: string[] = [];
  let busy = options.busyImages?.times ?? 0;
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url ?? ''}`);
    if (busy > 0 && request.url?.endsWith('.tar.xz')) {
      busy -= 1;
      response.writeHead(429, { 'retry-after': options.busyImages!.retryAfter }).end();
      return;
    }
    const delay = request.url?.endsWith('.tar.xz') ? (options.slowImagesMs ?? 0) : 0;
    setTimeout(() => serveFile(request.url, response), delay);
  });
  const serveFile = (url: string | undefined, response: ServerResponse) => {
    const path = normalize(join(root, decodeURIComponent(new URL(url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(root + sep)) {
      response.writeHead(403).end();
      return;
    }
    stat(path)
      .then(
        (info) => {
          if (!info.isFile()) throw new Error('not a file');
          response.writeHead(200, { 'content-length': info.size });
          createReadStream(path).pipe(response);
        },
        () => response.writeHead(404).end(),
      )
      .catch(() => response.writeHead(404).end());
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address for the compose server');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
