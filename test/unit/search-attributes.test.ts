import { describe, expect, it } from 'vitest';
import { ClientError } from '../../src/client/client-error.js';
import { ensureSearchAttributes, type OperatorConnection } from '../../src/client/search-attributes.js';

const KEYWORD = 2;
const KEYWORD_LIST = 7;

/** An operator service with these custom attributes; addSearchAttributes adds them, or fails with `addError`. */
function fakeServer(custom: Record<string, number>, options: { listError?: Error; addError?: Error } = {}) {
  const added: Array<Record<string, unknown>> = [];
  const connection = {
    operatorService: {
      listSearchAttributes: () =>
        options.listError
          ? Promise.reject(options.listError)
          : Promise.resolve({ customAttributes: { ...custom }, systemAttributes: {}, storageSchema: {} }),
      addSearchAttributes: (request: { searchAttributes?: Record<string, number> | null }) => {
        if (options.addError) return Promise.reject(options.addError);
        added.push({ ...request.searchAttributes });
        Object.assign(custom, request.searchAttributes);
        return Promise.resolve({});
      },
    },
  } as unknown as OperatorConnection;
  return { connection, added };
}

const grpcError = (code: number, details: string) =>
  Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
const ALL = { ComposeId: KEYWORD, Release: KEYWORD, GateDecision: KEYWORD_LIST, StaleRepositories: KEYWORD_LIST };

async function failure(promise: Promise<unknown>): Promise<ClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientError);
  return error as ClientError;
}

describe('ensureSearchAttributes', () => {
  it('passes a namespace that has them all', async () => {
    const { connection, added } = fakeServer({ ...ALL });
    await ensureSearchAttributes(connection, 'default', { create: true, what: 'x' });
    expect(added).toEqual([]);
  });

  it('names each missing one with its create command, and the config key', async () => {
    const { connection } = fakeServer({ ComposeId: KEYWORD, Release: KEYWORD });
    const error = await failure(
      ensureSearchAttributes(connection, 'prod', { create: false, what: 'the worker does not start' }),
    );
    expect(error.kind).toBe('namespace');
    expect(error.message).toContain(
      'namespace prod has no search attribute GateDecision (KeywordList), StaleRepositories (KeywordList), and the workflows write them: the worker does not start.',
    );
    expect(error.message).toContain(
      '  temporal operator search-attribute create --namespace prod --name GateDecision --type KeywordList',
    );
    expect(error.message).toContain(
      '  temporal operator search-attribute create --namespace prod --name StaleRepositories --type KeywordList',
    );
    expect(error.message).toContain('[temporal] create_search_attributes = true');
  });

  it('creates the missing ones when asked to, with their types, and says so', async () => {
    const { connection, added } = fakeServer({ ComposeId: KEYWORD, Release: KEYWORD, GateDecision: KEYWORD_LIST });
    const logged: string[] = [];
    await ensureSearchAttributes(connection, 'default', {
      create: true,
      what: 'x',
      log: (level, message) => logged.push(`${level} ${message}`),
    });
    expect(added).toEqual([{ StaleRepositories: KEYWORD_LIST }]);
    expect(logged).toEqual(['info created search attribute StaleRepositories (KeywordList) in namespace default']);
  });

  it('says why when the server refuses to create them, with the commands', async () => {
    const { connection } = fakeServer(
      { ComposeId: KEYWORD, Release: KEYWORD, GateDecision: KEYWORD_LIST },
      { addError: grpcError(7, 'Request unauthorized.') },
    );
    const error = await failure(ensureSearchAttributes(connection, 'default', { create: true, what: 'x' }));
    expect(error.message).toContain(
      'The server refused to create it ([temporal] create_search_attributes = true): Request unauthorized.',
    );
    expect(error.message).toContain('--name StaleRepositories --type KeywordList');
  });

  it('refuses one with another type (creating cannot fix it) and gives the commands that can', async () => {
    const { connection, added } = fakeServer({ ...ALL, GateDecision: KEYWORD });
    const error = await failure(ensureSearchAttributes(connection, 'default', { create: true, what: 'x' }));
    expect(added).toEqual([]);
    expect(error.message).toContain(
      'namespace default has search attribute GateDecision as Keyword, but the workflows write it as KeywordList',
    );
    expect(error.message).toContain(
      'temporal operator search-attribute remove --namespace default --name GateDecision',
    );
  });

  it('warns and goes on when the server will not list them (no operator permission)', async () => {
    const { connection } = fakeServer({}, { listError: grpcError(7, 'Request unauthorized.') });
    const logged: string[] = [];
    await ensureSearchAttributes(connection, 'default', {
      create: false,
      what: 'x',
      log: (level, message) => logged.push(`${level} ${message}`),
    });
    expect(logged).toEqual([
      'warn cannot check the search attributes of namespace default (Request unauthorized.): make sure it has ComposeId, Release, GateDecision, StaleRepositories',
    ]);
  });
});
