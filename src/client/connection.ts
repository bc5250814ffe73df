import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { ConfigError, type Config } from '../config.js';
import { ClientError } from './client-error.js';

/** Where the embedded dev server listens when [temporal] has no address. */
export const EMBEDDED_TEMPORAL = { ip: '127.0.0.1', port: 7233 } as const;

export function temporalAddress(config: Config): string {
  return config.temporal.address ?? `${EMBEDDED_TEMPORAL.ip}:${EMBEDDED_TEMPORAL.port}`;
}

/**
 * Address, TLS and API key for a Temporal cluster or Temporal Cloud, for clients and workers alike.
 * The API key is read from the environment variable [temporal].api_key_env names, never from the file.
 */
export function connectionOptions(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): Pick<ConnectionOptions, 'address' | 'tls'> & { apiKey?: string } {
  const { tls_cert, tls_key, tls_ca, api_key_env } = config.temporal;
  if (Boolean(tls_cert) !== Boolean(tls_key)) {
    throw new ConfigError(`${config.source}: [temporal] tls_cert and tls_key go together: set both (mTLS) or neither`);
  }
  const apiKey = api_key_env ? env[api_key_env] : undefined;
  if (api_key_env && !apiKey)
    throw new ConfigError(`${config.source}: [temporal].api_key_env = "${api_key_env}" but ${api_key_env} is not set`);
  const useTls = Boolean(tls_cert || tls_ca || apiKey);
  return {
    address: temporalAddress(config),
    ...(useTls
      ? {
          tls: {
            ...(tls_cert && tls_key
              ? {
                  clientCertPair: {
                    crt: readPem(config, 'tls_cert', tls_cert),
                    key: readPem(config, 'tls_key', tls_key),
                  },
                }
              : {}),
            ...(tls_ca ? { serverRootCACertificate: readPem(config, 'tls_ca', tls_ca) } : {}),
          },
        }
      : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}

function readPem(config: Config, key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(
      `${config.source}: [temporal].${key} = "${path}" cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
}

/** A client for the configured Temporal, with an error that says what to start when nothing answers. */
export async function connectClient(config: Config): Promise<Client> {
  const options = connectionOptions(config);
  try {
    const connection = await Connection.connect({ ...options, connectTimeout: 5_000 });
    return new Client({ connection, namespace: config.temporal.namespace });
  } catch (error) {
    throw await connectionError(config, options, error);
  }
}

/** Signs that the server's certificate was not accepted (Node's TLS, and rustls as the worker's connection reports it). */
const SERVER_CERTIFICATE =
  /altnames|NotValidForName|UnknownIssuer|self[- ]signed|unable to (verify|get local issuer)|certificate has expired|invalid peer certificate|CERT_/i;
/** Signs that the server refused the client's certificate, or asks for one (TLS alerts). */
const CLIENT_CERTIFICATE =
  /certificate.required|CertificateRequired|unknown.ca|UnknownCA|bad.certificate|BadCertificate|alert number (42|48|116)|handshake.failure/i;
/** gRPC status 7 and 16: the server refused the credentials (an API key). */
const CREDENTIALS =
  /UNAUTHENTICATED|PERMISSION_DENIED|Unauthenticated|unauthorized|valid authentication credentials|permission to/i;

/**
 * What failed when connecting to the configured Temporal, and which [temporal] key fixes it: the address, the
 * server's CA (tls_ca), the client certificate (tls_cert, tls_key) or the API key (api_key_env). For clients and the
 * worker alike. The SDKs often say only "Failed to connect before the deadline": then a TLS handshake of our own
 * with the same settings tells what the server refused.
 */
export async function connectionError(
  config: Config,
  options: ReturnType<typeof connectionOptions>,
  error: unknown,
): Promise<ClientError> {
  const address = options.address ?? temporalAddress(config);
  let detail = errorChain(error);
  const { tls_cert, tls_ca, api_key_env } = config.temporal;
  const file = config.source;
  let hint: string;
  let speaksTls = false;
  if (
    config.temporal.address &&
    !CLIENT_CERTIFICATE.test(detail) &&
    !SERVER_CERTIFICATE.test(detail) &&
    !CREDENTIALS.test(detail)
  ) {
    const probe = await probeTls(address, options.tls);
    if (probe.failure) detail += `; a TLS handshake with the same settings: ${probe.failure}`;
    speaksTls = !options.tls && probe.handshake;
  }
  if (!config.temporal.address) {
    hint =
      'start `compose-publisher worker` first: without [temporal].address it runs an embedded Temporal server there';
  } else if (speaksTls) {
    hint = `the frontend at ${address} speaks TLS: set [temporal] tls_ca in ${file} to the CA of its certificate (unless a public one) and, for mTLS, tls_cert and tls_key to a client certificate and key signed by a CA it trusts`;
  } else if (CLIENT_CERTIFICATE.test(detail)) {
    hint = tls_cert
      ? `the frontend refused this client's certificate: [temporal] tls_cert and tls_key in ${file} must be a client certificate and its key signed by a CA the frontend trusts`
      : `the frontend requires a client certificate (mTLS): set [temporal] tls_cert and tls_key in ${file} to a certificate and key signed by a CA it trusts`;
  } else if (SERVER_CERTIFICATE.test(detail)) {
    hint = tls_ca
      ? `the server's certificate is not valid for ${address}, or not signed by the CA in [temporal] tls_ca (${tls_ca}): set tls_ca to the CA that signed the frontend's certificate, and [temporal] address to a name that certificate is for (in ${file})`
      : `the server's certificate is not trusted for ${address}: set [temporal] tls_ca in ${file} to the CA that signed the frontend's certificate (without it, the system's CAs), and [temporal] address to a name the certificate is for`;
  } else if (CREDENTIALS.test(detail)) {
    hint = api_key_env
      ? `the frontend refused the credentials: check the API key in $${api_key_env} ([temporal] api_key_env in ${file}) and its namespace`
      : `the frontend refused this client: it may want an API key ([temporal] api_key_env) or a client certificate ([temporal] tls_cert, tls_key) in ${file}`;
  } else if (tls_cert || tls_ca || api_key_env) {
    hint = `check [temporal] address, tls_cert, tls_key, tls_ca and api_key_env in ${file}`;
  } else {
    hint = `check [temporal] address in ${file}; a frontend that requires TLS also needs [temporal] tls_ca (the CA of its certificate, unless a public one) and, for mTLS, tls_cert and tls_key`;
  }
  return new ClientError('unreachable', `cannot reach Temporal at ${address} (${detail}); ${hint}`);
}

/** An error's message and those of its causes: the SDKs wrap the gRPC status in a generic message. */
function errorChain(error: unknown): string {
  const messages: string[] = [];
  for (let current: unknown = error, depth = 0; current !== undefined && current !== null && depth < 5; depth += 1) {
    const message =
      current instanceof Error ? current.message : typeof current === 'string' ? current : JSON.stringify(current);
    if (message && !messages.some((seen) => seen.includes(message))) messages.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return messages
    .join(': ')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/**
 * A TLS handshake with the client's settings (or, without TLS, any certificate accepted: does the server speak TLS?).
 * With TLS 1.3 a server refuses a client certificate only after the client's side of the handshake ended: wait a
 * moment for its alert.
 */
async function probeTls(
  address: string,
  settings: ReturnType<typeof connectionOptions>['tls'],
): Promise<{ handshake: boolean; failure?: string }> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(separator + 1));
  if (separator < 0 || !Number.isInteger(port)) return { handshake: false };
  const options = typeof settings === 'object' ? settings : undefined;
  return new Promise((resolve) => {
    let handshake = false;
    const socket = tlsConnect({
      host,
      port,
      ALPNProtocols: ['h2'],
      ...(isIP(host) ? {} : { servername: host }),
      ...(settings ? {} : { rejectUnauthorized: false }),
      ...(options?.serverRootCACertificate ? { ca: Buffer.from(options.serverRootCACertificate) } : {}),
      ...(options?.clientCertPair
        ? { cert: Buffer.from(options.clientCertPair.crt), key: Buffer.from(options.clientCertPair.key) }
        : {}),
    });
    const done = (failure?: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ handshake, ...(failure ? { failure } : {}) });
    };
    const timer = setTimeout(() => done(), 3_000);
    socket.once('secureConnect', () => {
      handshake = true;
      setTimeout(() => done(), 500);
    });
    socket.once('error', (error: Error) => done(error.message.replace(/\s*\n\s*/g, ' ').trim()));
  });
}
