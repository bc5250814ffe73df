import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createSecureServer, type IncomingHttpHeaders } from 'node:http2';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect } from 'amqplib';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitForRun } from '../../src/client/publish-runs.js';
import { startRabbitMq, type RabbitMqServer } from '../../src/dev/rabbitmq-server.js';
import type { PublishStatus } from '../../src/domain/run-contract/index.js';
import { publishWorkflowId } from '../../src/domain/run-contract/index.js';
import { makeCertificates, type TestCertificates } from '../support/certificates.js';
import { CLI } from '../support/cli.js';
import { makeCompose, type MadeCompose } from '../support/compose-factory.js';
import { startWorkerProcess, stopWorkerProcess, until, type WorkerProcess } from '../support/faults.js';
import { connectTestEnvironment, scratchSubdir } from '../support/temporal.js';
import { readClusterState, type ClusterState } from './support/cluster.js';

type TemporalKeys = { address: string; tls_cert?: string; tls_key?: string; tls_ca?: string; api_key_env?: string };

/** `compose-publisher --config FILE ARGS…` as a process, with extra environment variables; never hangs the suite. */
function run(args: string[], configFile: string, env: Record<string, string> = {}) {
  return execa('node', [CLI, '--config', configFile, ...args], {
    reject: false,
    timeout: 90_000,
    stdin: 'ignore',
    env: { COMPOSE_PUBLISHER_CONFIG: undefined, ...env },
  });
}

/** A TCP forwarder on 127.0.0.2 to `target`: the same frontend, reached under a name its certificate is not for. */
async function forwarder(target: {
  host: string;
  port: number;
}): Promise<{ address: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  return {
    address: `127.0.0.2:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A gRPC server on loopback that records the headers of every call and refuses it (UNAUTHENTICATED), as Temporal
 * Cloud refuses a wrong key: enough to see what a client sends. TLS with the test CA's localhost certificate.
 */
async function recordingServer(
  certificates: TestCertificates,
): Promise<{ address: string; calls: IncomingHttpHeaders[]; close: () => Promise<void> }> {
  const calls: IncomingHttpHeaders[] = [];
  const server = createSecureServer({
    cert: readFileSync(certificates.server.cert),
    key: readFileSync(certificates.server.key),
  });
  server.on('stream', (stream, headers) => {
    calls.push(headers);
    stream.on('error', () => undefined);
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc',
        'grpc-status': '16',
        'grpc-message': 'recording server: not a Temporal frontend',
      },
      { endStream: true },
    );
  });
  server.on('sessionError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe.sequential(
  'the mTLS frontend of `scripts/cluster.sh up --tls`: [temporal] tls_cert, tls_key, tls_ca and api_key_env against real servers',
  () => {
    let cluster: ClusterState;
    let tls: NonNullable<ClusterState['tls']>;
    let env: TestWorkflowEnvironment;
    let dir: string;
    let broker: RabbitMqServer;
    let other: TestCertificates;
    let composes: { published: MadeCompose; announced: MadeCompose };
    let worker: WorkerProcess | undefined;
    const taskQueue = `cluster-tls-${randomUUID().slice(0, 8)}`;
    const registryNamespace = `cluster-tls-${randomUUID().slice(0, 6)}`;
    const respin = 100 + Math.floor(Math.random() * 99_000);
    const name = `cluster-tls-${randomUUID().slice(0, 8)}`;
    const routingKey = `org.fedoraproject.${name}.pungi.compose.status.change`;

    /** A config file as an operator writes it for this cluster, with these [temporal] keys (and [amqp] for the listener). */
    function writeConfig(file: string, temporal: TemporalKeys, options: { amqp?: boolean } = {}): string {
      const path = join(dir, `${file}.toml`);
      const keys = Object.entries(temporal).map(([key, value]) => `${key} = ${JSON.stringify(value)}`);
      const registries = inject('registryHosts').map(
        (host) => `[[registries]]\nurl = "${host}/${registryNamespace}"\ntls_verify = false\n`,
      );
      writeFileSync(
        path,
        `[temporal]
${keys.join('\n')}
namespace = "${cluster.namespace}"
task_queue = "${taskQueue}"

${registries.join('\n')}
[repositories]
Container_Base = "fedora"

[architectures]
x86_64 = "amd64"

[releases]
latest = "43"

[compose]
allowed_locations = ["${dir}/"]

[publish]
work_dir = "${join(dir, `${file}-work`)}"
${
  options.amqp
    ? `
[amqp]
url = "${broker.url}"
queue = "${name}"
routing_keys = ["${routingKey}"]
dead_letter_exchange = "${name}.dlx"
`
    : ''
}`,
      );
      return path;
    }

    const mtls = (): TemporalKeys => ({
      address: tls.address,
      tls_cert: tls.clientCert,
      tls_key: tls.clientKey,
      tls_ca: tls.ca,
    });

    beforeAll(async () => {
      cluster = readClusterState();
      if (!cluster.tls)
        throw new Error(
          'the cluster has no mTLS frontend: start it with `bash scripts/cluster.sh up --tls` (as .ci/run does), then run npm run test:cluster',
        );
      tls = cluster.tls;
      env = await connectTestEnvironment();
      dir = scratchSubdir('cluster-tls');
      const started = startRabbitMq({ dataDir: join(dir, 'rabbitmq') });
      mkdirSync(join(dir, 'other-ca'));
      other = await makeCertificates(join(dir, 'other-ca'));
      const storage = { root: join(dir, 'storage'), runroot: join(dir, 'run') };
      const make = (composeId: string) =>
        makeCompose({ composeId, images: { Container_Base: ['x86_64'] }, format: '1.2' }, { dir, storage });
      const [published, announced] = await Promise.all([
        make(`Fedora-42-20261125.n.${respin}`),
        make(`Fedora-43-20261125.n.${respin}`),
      ]);
      composes = { published: published, announced: announced };
      broker = await started;
    });

    afterAll(async () => {
      if (env && composes) {
        await Promise.allSettled(
          Object.values(composes).map((compose) =>
            env.client.workflow.getHandle(publishWorkflowId(compose.composeId)).terminate('cluster TLS suite ended'),
          ),
        );
      }
      await stopWorkerProcess(worker);
      await broker?.stop();
      await env?.teardown();
    });

    it('the worker, publish --wait, status and the listener connect with tls_cert, tls_key and tls_ca, and their runs complete', async () => {
      const config = writeConfig('mtls', mtls());
      worker = await startWorkerProcess(config);
      const { published, announced } = composes;

      const publish = await run(['publish', published.root, '--wait'], config);
      expect(publish.exitCode, `${publish.stdout}\n${publish.stderr}`).toBe(0);
      const status = await run(['status', published.composeId, '--json'], config);
      expect(status.exitCode, status.stderr).toBe(0);
      expect((JSON.parse(status.stdout) as PublishStatus).phase).toBe('done');
      console.log(
        `  publish --wait and status over mTLS: ${(JSON.parse(status.stdout) as PublishStatus).repositories.map((r) => `${r.repository} ${r.decision}`).join(', ')}`,
      );

      // The listener: a compose status message on the broker starts a run through the mTLS frontend.
      const listener = run(['listen'], writeConfig('listener', mtls(), { amqp: true }));
      const output: string[] = [];
      for (const stream of [listener.stdout, listener.stderr])
        stream.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      try {
        await until('the listener to connect', () => {
          if (listener.exitCode !== null)
            throw new Error(`listen exited with ${listener.exitCode}:\n${output.join('')}`);
          return output.join('').includes('"connected"');
        });
        const connection = await connect(broker.url);
        try {
          const channel = await connection.createConfirmChannel();
          const message = {
            compose_id: announced.composeId,
            compose_date: '20261125',
            compose_type: 'nightly',
            compose_respin: respin,
            release_short: 'Fedora',
            release_version: '43',
            release_is_layered: false,
            status: 'FINISHED',
            location: announced.root,
          };
          channel.publish('amq.topic', routingKey, Buffer.from(JSON.stringify(message)), {
            persistent: true,
            contentType: 'application/json',
          });
          await channel.waitForConfirms();
        } finally {
          await connection.close();
        }
        // Read through the plain frontend: the run the listener started over mTLS, run by the worker connected over mTLS.
        const handle = env.client.workflow.getHandle(publishWorkflowId(announced.composeId));
        await until(
          'the listener to start the run',
          async () => (await handle.describe().catch(() => undefined)) !== undefined,
          60_000,
          250,
        );
        const done = await waitForRun(handle, announced.composeId);
        expect(done.phase, JSON.stringify(done)).toBe('done');
        expect(done.repositories[0]).toMatchObject({ repository: 'fedora', decision: 'pass', built: ['amd64'] });
      } finally {
        listener.kill('SIGTERM');
        await listener;
      }
      expect(output.join('')).toMatch(
        new RegExp(
          `"started".*${announced.composeId.replace(/\./g, '\\.')}|${announced.composeId.replace(/\./g, '\\.')}.*"started"`,
        ),
      );
    });

    it('refuses a client without a certificate, with one from another CA, and without TLS, naming the [temporal] keys to set', async () => {
      const cases = [
        {
          what: 'no client certificate (tls_ca only)',
          keys: { address: tls.address, tls_ca: tls.ca },
          expected: /\[temporal\] tls_cert and tls_key/,
        },
        {
          what: 'a client certificate from another CA',
          keys: { address: tls.address, tls_cert: other.client.cert, tls_key: other.client.key, tls_ca: tls.ca },
          expected: /\[temporal\] tls_cert and tls_key/,
        },
        {
          what: 'no TLS at all',
          keys: { address: tls.address },
          expected: /\[temporal\] tls_ca .*tls_cert and tls_key/,
        },
      ];
      for (const [i, refused] of cases.entries()) {
        const config = writeConfig(`refused-${i}`, refused.keys);
        for (const args of [['status', composes.published.composeId], ['worker']]) {
          const result = await run(args, config);
          const message = result.stderr.trim().split('\n').at(-1) ?? '';
          console.log(`  ${refused.what}, ${args[0]}: exit ${result.exitCode}: ${message}`);
          expect(result.exitCode, result.stderr).toBe(1);
          expect(message).toContain(`cannot reach Temporal at ${tls.address}`);
          expect(message).toMatch(refused.expected);
        }
      }
    });

    it('refuses the frontend when its certificate is for another name than the address', async () => {
      const [host, port] = tls.address.split(':');
      const forward = await forwarder({ host: host!, port: Number(port) });
      try {
        const config = writeConfig('other-name', { ...mtls(), address: forward.address });
        for (const args of [['status', composes.published.composeId], ['worker']]) {
          const result = await run(args, config);
          const message = result.stderr.trim().split('\n').at(-1) ?? '';
          console.log(
            `  server certificate for 127.0.0.1 reached as ${forward.address}, ${args[0]}: exit ${result.exitCode}: ${message}`,
          );
          expect(result.exitCode, result.stderr).toBe(1);
          expect(message).toContain(`cannot reach Temporal at ${forward.address}`);
          expect(message).toMatch(/\[temporal\] tls_ca/);
        }
      } finally {
        await forward.close();
      }
    });

    it('api_key_env: the CLI and the worker send the key as Temporal Cloud expects (authorization: Bearer <key>)', async () => {
      const server = await recordingServer(other);
      const key = `test-key-${randomUUID()}`;
      try {
        const config = writeConfig('api-key', {
          address: server.address,
          tls_ca: other.caCert,
          api_key_env: 'CLUSTER_TEST_TEMPORAL_API_KEY',
        });
        for (const args of [['status', composes.published.composeId], ['worker']]) {
          const before = server.calls.length;
          const result = await run(args, config, { CLUSTER_TEST_TEMPORAL_API_KEY: key });
          const message = result.stderr.trim().split('\n').at(-1) ?? '';
          const first = server.calls[before];
          console.log(
            `  ${args[0]}: first call ${String(first?.[':path'])} with authorization ${first?.authorization === `Bearer ${key}` ? 'Bearer <the key>' : String(first?.authorization)}; exit ${result.exitCode}: ${message}`,
          );
          expect(first?.authorization, `${args[0]}: ${result.stderr}`).toBe(`Bearer ${key}`);
          expect(String(first?.[':path'])).toMatch(/^\/temporal\.api\.workflowservice\.v1\.WorkflowService\//);
          expect(result.exitCode).toBe(1);
          expect(message).toMatch(/\$CLUSTER_TEST_TEMPORAL_API_KEY \(\[temporal\] api_key_env/);
        }
      } finally {
        await server.close();
      }
    });
  },
);
