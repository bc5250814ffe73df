import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PUNGI_STATUSES } from '../../src/domain/pungi-status.js';
import { readStatusMessage, type MessageFilter } from '../../src/listener/message.js';
import { startListener } from '../../src/listener/listener.js';
import { ConfigError, parseConfig } from '../../src/config.js';
import type { Client } from '@temporalio/client';

const filter: MessageFilter = {
  statuses: ['FINISHED', 'FINISHED_INCOMPLETE'],
  composeIdPatterns: [],
  allowedLocations: {
    prefixes: ['https://kojipkgs.example.org/compose/', 'https://kojipkgs.fedoraproject.org/compose/'],
    key: '[compose].allowed_locations',
  },
};
const body = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const finished = {
  compose_id: 'Fedora-40-20240501.n.0',
  status: 'FINISHED',
  location: 'https://kojipkgs.example.org/compose/40/Fedora-40-20240501.n.0/compose',
};

describe('reading a Pungi compose status message', () => {
  it('wants a finished compose with a location, whatever else Pungi sends along', () => {
    expect(readStatusMessage(body({ ...finished, compose_respin: 0, release_is_layered: false }), filter)).toEqual({
      kind: 'wanted',
      composeId: 'Fedora-40-20240501.n.0',
      location: finished.location,
      status: 'FINISHED',
    });
  });

  it('calls a body invalid that is not JSON, not an object, or lacks or mistypes a field', () => {
    expect(readStatusMessage(body('{"compose_id": '), filter)).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/^body is not JSON \(/) as unknown,
    });
    expect(readStatusMessage(body('[1, 2]'), filter)).toEqual({ kind: 'invalid', reason: 'body is not a JSON object' });
    expect(readStatusMessage(body({ status: 'FINISHED', compose_id: 42 }), filter)).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/^compose_id: /) as unknown,
    });
    expect(readStatusMessage(body({ compose_id: 'Fedora-40-20240501.n.0' }), filter)).toEqual({
      kind: 'invalid',
      reason: 'status: missing',
    });
  });

  it('ignores other statuses and compose ids no pattern matches, before asking for a location', () => {
    expect(readStatusMessage(body({ compose_id: 'Fedora-40-20240501.n.0', status: 'STARTED' }), filter)).toEqual({
      kind: 'ignored',
      composeId: 'Fedora-40-20240501.n.0',
      reason: 'status STARTED is not one of FINISHED, FINISHED_INCOMPLETE ([amqp].statuses)',
    });
    const rawhideOnly = { ...filter, composeIdPatterns: [/^Fedora-Rawhide-/] };
    expect(readStatusMessage(body(finished), rawhideOnly)).toMatchObject({
      kind: 'ignored',
      reason: 'compose id matches none of [amqp].compose_id_patterns',
    });
    expect(
      readStatusMessage(body({ ...finished, compose_id: 'Fedora-Rawhide-20240501.n.0' }), rawhideOnly),
    ).toMatchObject({ kind: 'wanted' });
  });

  it('calls a wanted message invalid without a location, or with one that is neither a URL nor an absolute path', () => {
    expect(readStatusMessage(body({ ...finished, location: undefined }), filter)).toEqual({
      kind: 'invalid',
      composeId: finished.compose_id,
      reason: 'location: missing (the compose top directory URL)',
    });
    expect(readStatusMessage(body({ ...finished, location: 'compose/40' }), filter)).toMatchObject({
      kind: 'invalid',
      reason: 'location "compose/40" is neither an http(s) URL nor an absolute path',
    });
  });
});

describe("Pungi's real message bodies (test/fixtures/messages)", () => {
  const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'messages', name));
  const F43_COMPOSE = 'https://kojipkgs.fedoraproject.org/compose/43/Fedora-43-20251023.0/compose';

  it('reads a flat body and the same body in the fedmsg envelope alike', () => {
    const wanted = { kind: 'wanted', composeId: 'Fedora-43-20251023.0', location: F43_COMPOSE, status: 'FINISHED' };
    expect(readStatusMessage(fixture('pungi-finished-flat.json'), filter)).toEqual(wanted);
    expect(readStatusMessage(fixture('pungi-finished-envelope.json'), filter)).toEqual(wanted);
  });

  it('takes a top-directory location (pungi-orchestrate) and a numeric release_version it does not use', () => {
    expect(readStatusMessage(fixture('pungi-orchestrate-top.json'), filter)).toMatchObject({
      kind: 'wanted',
      location: expect.not.stringMatching(/\/compose$/) as unknown,
    });
    expect(readStatusMessage(fixture('pungi-release-version-number.json'), filter)).toMatchObject({
      kind: 'wanted',
      composeId: 'Fedora-43-20251023.0',
    });
    expect(readStatusMessage(fixture('pungi-rawhide-flat.json'), filter)).toMatchObject({
      kind: 'wanted',
      composeId: expect.stringMatching(/^Fedora-Rawhide-\d{8}\.n\.\d+$/) as unknown,
    });
  });

  it.each(PUNGI_STATUSES)('handles status %s as configured', (status) => {
    const message = { ...(JSON.parse(fixture('pungi-finished-flat.json').toString('utf8')) as object), status };
    expect(readStatusMessage(body(message), { ...filter, statuses: [status] }).kind).toBe('wanted');
    const others = PUNGI_STATUSES.filter((s) => s !== status);
    expect(readStatusMessage(body(message), { ...filter, statuses: others }).kind).toBe('ignored');
  });

  it('dead-letters an envelope whose msg is not a compose status', () => {
    const envelope = {
      i: 1,
      msg_id: 'x',
      timestamp: 1,
      topic: 'org.fedoraproject.prod.pungi.compose.status.change',
      username: 'root',
      msg: { hello: 'world' },
    };
    expect(readStatusMessage(body(envelope), filter)).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('compose_id') as unknown,
    });
  });
});

describe('the listener and [compose] allowed_locations', () => {
  const amqp = '[amqp]\nurl = "amqp://guest:guest@127.0.0.1:1/%2F"\n';
  const config = (extra: string) =>
    parseConfig(
      `[[registries]]\nurl = "127.0.0.1:5000/fedora"\n\n[repositories]\nContainer_Base = "fedora"\n\n[architectures]\nx86_64 = "amd64"\n\n${extra}`,
      'test.toml',
    );

  it('refuses to start without the key, naming it', () => {
    expect(() => startListener({ client: {} as Client, config: config(amqp) })).toThrow(
      new ConfigError(
        'test.toml: [compose].allowed_locations is not set; the listener starts runs only for composes under these prefixes, e.g. [compose] allowed_locations = ["https://kojipkgs.fedoraproject.org/compose/"]',
      ),
    );
  });

  it('dead-letters a location outside, naming the key the config used', () => {
    const outside = { ...finished, location: 'https://evil.example/compose/40' };
    expect(readStatusMessage(body(outside), filter)).toEqual({
      kind: 'invalid',
      composeId: finished.compose_id,
      reason:
        'location "https://evil.example/compose/40" is not under any of [compose].allowed_locations (https://kojipkgs.example.org/compose/, https://kojipkgs.fedoraproject.org/compose/)',
    });
  });
});
