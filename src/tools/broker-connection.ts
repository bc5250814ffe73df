import { readFileSync } from 'node:fs';
import { connect, type ChannelModel } from 'amqplib';

/** How to reach the AMQP broker: [amqp] url, and for TLS with client certificates (Fedora's broker) the PEM files. */
export interface BrokerSettings {
  url: string;
  /** CA certificate(s) that signed the broker's certificate. */
  caCert?: string;
  /** This client's certificate and key, for brokers that authenticate clients by x509 certificate. */
  cert?: string;
  key?: string;
}

const APP = 'compose-publisher';
// package.json is two levels up both from src/tools/ and from the built dist/tools/.
const APP_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * Connects to the broker, naming this client in client_properties (app, app_version) as Fedora's broker asks of
 * its clients, over TLS with the configured certificates when the URL is amqps://.
 */
export function connectBroker(settings: BrokerSettings, timeoutMs = 10_000): Promise<ChannelModel> {
  const tls = {
    ...(settings.caCert ? { ca: readFileSync(settings.caCert) } : {}),
    ...(settings.cert ? { cert: readFileSync(settings.cert) } : {}),
    ...(settings.key ? { key: readFileSync(settings.key) } : {}),
  };
  return connect(settings.url, {
    timeout: timeoutMs,
    clientProperties: { app: APP, app_version: APP_VERSION, product: APP },
    ...tls,
  });
}
