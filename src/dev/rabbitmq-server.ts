import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'amqplib';
import { startService, waitUntilReady, type ServiceProcess } from './child-process.js';
import { freePort } from './free-port.js';
import { minimalPluginsDir } from './rabbitmq-plugins.js';

/**
 * The server script itself, not /usr/sbin/rabbitmq-server: run as root, that wrapper re-runs it with
 * `su rabbitmq`, which resets HOME (so the shared cookie) and cannot write our root-owned temp directory.
 */
const SERVER_SCRIPT = '/usr/lib/rabbitmq/bin/rabbitmq-server';

export interface RabbitMqOptions {
  /** Node data (mnesia), logs, config and Erlang cookie live here; created if missing. */
  dataDir: string;
  /** AMQP port on 127.0.0.1. Default: a free port. */
  port?: number;
  /**
   * Also listen for AMQP over TLS (tlsUrl), verifying clients: one without a certificate signed by caCert is
   * refused (fail_if_no_peer_cert), as Fedora's broker does. PEM files; the server certificate must name localhost.
   */
  tls?: { caCert: string; cert: string; key: string };
}

export interface RabbitMqServer extends ServiceProcess {
  /** amqp://guest:guest@127.0.0.1:<port>/%2F (guest may log in over loopback only). */
  url: string;
  /** With options.tls: amqps://guest:guest@localhost:<tls port>/%2F. */
  tlsUrl?: string;
  port: number;
  nodeName: string;
  /** Stops the node, then starts it again with the same node name, ports and data: durable queues survive. */
  restart(): Promise<void>;
}

let nodeCounter = 0;

/** A RabbitMQ node of its own (name, ports, data, cookie) on loopback for tests and the demo; no plugins. */
export async function startRabbitMq(options: RabbitMqOptions): Promise<RabbitMqServer> {
  if (!existsSync(SERVER_SCRIPT)) {
    throw new Error(
      `RabbitMQ is not installed (${SERVER_SCRIPT} is missing): run \`bash scripts/setup.sh\` or \`apt-get install rabbitmq-server\``,
    );
  }
  mkdirSync(options.dataDir, { recursive: true });
  nodeCounter += 1;
  const nodeName = `cp-${process.pid}-${nodeCounter}@localhost`;
  const port = options.port ?? (await freePort());
  const distPort = await freePortOtherThan(port);
  const tlsPort = options.tls ? await freePortOtherThan(port, distPort) : undefined;
  const env = nodeEnvironment(
    options.dataDir,
    nodeName,
    port,
    distPort,
    options.tls && tlsPort ? { ...options.tls, port: tlsPort } : undefined,
  );
  const url = `amqp://guest:guest@127.0.0.1:${port}/%2F`;
  const logFile = join(options.dataDir, 'rabbitmq.log');
  const pidFile = env.RABBITMQ_PID_FILE!;

  let node = await launch(env, logFile, url);
  return {
    name: node.name,
    logFile,
    url,
    ...(tlsPort ? { tlsUrl: `amqps://guest:guest@localhost:${tlsPort}/%2F` } : {}),
    port,
    nodeName,
    stop: () => stopNode(node, pidFile, nodeName),
    async restart() {
      await stopNode(node, pidFile, nodeName);
      node = await launch(env, logFile, url);
    },
  };
}

function nodeEnvironment(
  dataDir: string,
  nodeName: string,
  port: number,
  distPort: number,
  tls?: RabbitMqOptions['tls'] & { port: number },
): NodeJS.ProcessEnv {
  const configFile = join(dataDir, 'rabbitmq.conf');
  const pluginsFile = join(dataDir, 'enabled_plugins');
  const tlsConfig = tls
    ? [
        `listeners.ssl.1 = 127.0.0.1:${tls.port}`,
        `ssl_options.cacertfile = ${tls.caCert}`,
        `ssl_options.certfile = ${tls.cert}`,
        `ssl_options.keyfile = ${tls.key}`,
        'ssl_options.verify = verify_peer',
        'ssl_options.fail_if_no_peer_cert = true',
      ]
    : [];
  writeFileSync(
    configFile,
    [
      'log.console = true',
      'log.console.level = info',
      'log.console.use_colors = off',
      'log.file = false',
      ...tlsConfig,
      '',
    ].join('\n'),
  );
  writeFileSync(pluginsFile, '[].\n');
  const pluginsDir = minimalPluginsDir(join(dataDir, 'plugins'));
  return {
    // A fresh HOME gives the node its own .erlang.cookie.
    HOME: dataDir,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dataDir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dataDir, 'log'),
    RABBITMQ_PID_FILE: join(dataDir, 'rabbitmq.pid'),
    RABBITMQ_CONFIG_FILE: configFile,
    RABBITMQ_ENABLED_PLUGINS_FILE: pluginsFile,
    // Keeps /etc/rabbitmq/rabbitmq-env.conf (the packaged service's settings) out of this node.
    RABBITMQ_CONF_ENV_FILE: join(dataDir, 'rabbitmq-env.conf'),
    ...(pluginsDir ? { RABBITMQ_PLUGINS_DIR: pluginsDir } : {}),
    ERL_CRASH_DUMP: join(dataDir, 'erl_crash.dump'),
  };
}

async function launch(env: NodeJS.ProcessEnv, logFile: string, url: string) {
  const service = startService('RabbitMQ', SERVER_SCRIPT, [], logFile, env);
  await waitUntilReady(service, () => acceptsAmqp(url));
  return service;
}

async function acceptsAmqp(url: string): Promise<boolean> {
  const connection = await connect(url, { timeout: 1_000 });
  await connection.close();
  return true;
}

/**
 * SIGTERM to the start script stops the node gracefully (a few seconds). If the script had to be killed, the
 * Erlang VM it started may outlive it: that one (found by its pid file and node name) is killed too.
 * epmd, shared by every Erlang node on the host, is left running.
 */
async function stopNode(service: ServiceProcess, pidFile: string, nodeName: string): Promise<void> {
  await service.stop();
  const pid = nodeProcess(pidFile, nodeName);
  if (pid === undefined) return;
  process.kill(pid, 'SIGKILL');
  while (nodeProcess(pidFile, nodeName) !== undefined) await sleep(50);
}

function nodeProcess(pidFile: string, nodeName: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    // The pid file may outlive the node; only a VM running this node name is ours.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(nodeName) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function freePortOtherThan(...taken: number[]): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!taken.includes(port)) return port;
  }
}
