import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { startRabbitMq, type RabbitMqServer } from '../../src/dev/rabbitmq-server.js';
import { startListener } from '../../src/listener/listener.js';
import type { ListenerLogEntry } from '../../src/listener/log.js';
import { connectBroker } from '../../src/tools/broker-connection.js';
import { makeCertificates, type TestCertificates } from '../support/certificates.js';
import { connectTestEnvironment, scratchSubdir } from '../support/temporal.js';

describe('a broker that takes only TLS clients with certificates, as Fedora’s does', () => {
  let dir: string;
  let certificates: TestCertificates;
  let broker: RabbitMqServer;

  beforeAll(async () => {
    dir = scratchSubdir('broker-tls');
    certificates = await makeCertificates(dir);
    broker = await startRabbitMq({
      dataDir: join(dir, 'rabbitmq'),
      tls: { caCert: certificates.caCert, ...certificates.server },
    });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('lets in a client with a certificate of the broker’s CA, which names itself in client_properties', async () => {
    const connection = await connectBroker({
      url: broker.tlsUrl!,
      caCert: certificates.caCert,
      ...certificates.client,
    });
    try {
      let listed = '';
      for (let i = 0; i < 20 && !listed.includes('compose-publisher'); i++) {
        await sleep(250);
        const env = { HOME: join(dir, 'rabbitmq'), RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq', 'rabbitmq-env.conf') };
        listed = (
          await execa(
            '/usr/lib/rabbitmq/bin/rabbitmqctl',
            ['-n', broker.nodeName, 'list_connections', 'ssl', 'client_properties'],
            { env, reject: false },
          )
        ).stdout;
      }
      expect(listed).toMatch(/true.*"app","compose-publisher"/s);
      expect(listed).toContain('"app_version","0.1.0"');
    } finally {
      await connection.close();
    }
  });

  it('is refused without a client certificate, or with one of another CA', async () => {
    await expect(connectBroker({ url: broker.tlsUrl!, caCert: certificates.caCert }, 5_000)).rejects.toThrow();
    await expect(
      connectBroker({ url: broker.tlsUrl!, caCert: certificates.caCert, ...certificates.stranger }, 5_000),
    ).rejects.toThrow();
  });

  it('the listener connects with [amqp] ca_cert, cert and key', async () => {
    const env = await connectTestEnvironment();
    const config = parseConfig(
      `[temporal]
address = "${inject('temporalAddress')}"
namespace = "${inject('temporalNamespace')}"
[[registries]]
url = "127.0.0.1:5000/unused"
[repositories]
Container_Base = "fedora"
[architectures]
x86_64 = "amd64"
[amqp]
url = "${broker.tlsUrl!}"
queue = "tls-listener"
allowed_locations = ["https://kojipkgs.fedoraproject.org/compose/"]
ca_cert = "${certificates.caCert}"
cert = "${certificates.client.cert}"
key = "${certificates.client.key}"
`,
      'tls.toml',
    );
    const entries: ListenerLogEntry[] = [];
    const listener = startListener({
      client: env.client,
      config,
      log: (entry) => entries.push(entry),
      reconnect: { initialMs: 250, maxMs: 1_000 },
    });
    try {
      for (let i = 0; i < 80 && !entries.some((entry) => 'event' in entry && entry.event === 'connected'); i++)
        await sleep(100);
      expect(entries.filter((entry) => 'event' in entry).map((entry) => (entry as { event: string }).event)).toContain(
        'connected',
      );
    } finally {
      await listener.stop();
      await env.teardown();
    }
  });
});
