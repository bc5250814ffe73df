import { describe, expect, it } from 'vitest';
import { leveledLog } from '../../src/listener/log.js';
import { JsonLogger } from '../../src/observability/json-logger.js';

function capture(level: 'INFO' | 'WARN') {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, logger: new JsonLogger(level, (line) => lines.push(JSON.parse(line) as Record<string, unknown>)) };
}

describe('JsonLogger', () => {
  it('writes one JSON object per line with time, level, message and metadata, without the SDK component', () => {
    const { lines, logger } = capture('INFO');
    logger.info('arch image pushed', {
      composeId: 'Fedora-40-20240501.n.0',
      repository: 'fedora',
      registry: 'quay.io/fedora',
      sdkComponent: 'activity',
    });
    expect(lines).toEqual([
      {
        time: expect.any(String) as unknown,
        level: 'info',
        message: 'arch image pushed',
        composeId: 'Fedora-40-20240501.n.0',
        repository: 'fedora',
        registry: 'quay.io/fedora',
      },
    ]);
  });

  it('drops lines below its level and renders errors as text', () => {
    const { lines, logger } = capture('WARN');
    logger.debug('noise');
    logger.info('noise');
    logger.error('push failed', { error: new Error('manifest unknown') });
    expect(lines.map((l) => [l.level, l.message, l.error])).toEqual([
      ['error', 'push failed', 'Error: manifest unknown'],
    ]);
  });
});

describe('leveledLog', () => {
  it('logs listener trouble as warnings and the rest as info', () => {
    const { lines, logger } = capture('WARN');
    const log = leveledLog(logger);
    log({ outcome: 'started', routingKey: 'k', redelivered: false, composeId: 'c' });
    log({ outcome: 'dead-lettered', routingKey: 'k', redelivered: false, reason: 'body is not JSON' });
    log({ event: 'disconnected', broker: 'amqp://x', queue: 'q', reason: 'closed' });
    expect(lines.map((l) => [l.level, l.message, l.reason])).toEqual([
      ['warn', 'dead-lettered', 'body is not JSON'],
      ['warn', 'disconnected', 'closed'],
    ]);
  });
});
