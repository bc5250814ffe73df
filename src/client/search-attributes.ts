import { isGrpcServiceError, type OperatorService } from '@temporalio/client';
import { createSearchAttributeCommand, SEARCH_ATTRIBUTES } from '../domain/run-contract/search-attributes.js';
import { ClientError } from './client-error.js';

/** temporal.api.enums.v1.IndexedValueType, as the operator service sends it, by the Temporal CLI's type name. */
const INDEXED_VALUE_TYPES: Record<number, string> = {
  1: 'Text',
  2: 'Keyword',
  3: 'Int',
  4: 'Double',
  5: 'Bool',
  6: 'Datetime',
  7: 'KeywordList',
};
const INDEXED_VALUE_TYPE_OF: Record<string, number> = Object.fromEntries(
  Object.entries(INDEXED_VALUE_TYPES).map(([value, name]) => [name, Number(value)]),
);

/** A client Connection or a worker's NativeConnection: both have the operator service. */
export interface OperatorConnection {
  operatorService: Pick<OperatorService, 'listSearchAttributes' | 'addSearchAttributes'>;
}

/** A search attribute the project writes that the namespace lacks (`found` undefined) or has with another type. */
export interface SearchAttributeProblem {
  name: string;
  type: string;
  found?: string;
}

export type NamespaceCheck = { problems: SearchAttributeProblem[] } | { cannotCheck: string };

/** Which of SEARCH_ATTRIBUTES `namespace` lacks or has with another type; cannotCheck when the server will not say. */
export async function checkSearchAttributes(
  connection: OperatorConnection,
  namespace: string,
): Promise<NamespaceCheck> {
  let custom: Record<string, number>;
  try {
    const response = await connection.operatorService.listSearchAttributes({ namespace });
    custom = {
      ...(response.systemAttributes as Record<string, number>),
      ...(response.customAttributes as Record<string, number>),
    };
  } catch (error) {
    if (refused(error)) return { cannotCheck: grpcMessage(error) };
    throw new ClientError(
      'unreachable',
      `cannot list the search attributes of namespace ${namespace}: ${grpcMessage(error)}`,
    );
  }
  const problems: SearchAttributeProblem[] = [];
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
    const value = custom[name];
    if (value === undefined) problems.push({ name, type });
    else if (INDEXED_VALUE_TYPES[value] !== type)
      problems.push({ name, type, found: INDEXED_VALUE_TYPES[value] ?? `type ${value}` });
  }
  return { problems };
}

export interface EnsureOptions {
  /** [temporal] create_search_attributes: create the missing ones where the operator service allows. */
  create: boolean;
  /** What the caller is about to do, for the message: "the worker cannot start". */
  what: string;
  log?: (level: 'info' | 'warn', message: string) => void;
}

/**
 * Checks the namespace for every search attribute the project writes, creates the missing ones when asked to,
 * and otherwise throws a ClientError (kind namespace) that names each one with the command that creates it. A
 * server that will not list them (no operator permission, Temporal Cloud) is logged and let be.
 */
export async function ensureSearchAttributes(
  connection: OperatorConnection,
  namespace: string,
  options: EnsureOptions,
): Promise<void> {
  const check = await checkSearchAttributes(connection, namespace);
  if ('cannotCheck' in check) {
    options.log?.(
      'warn',
      `cannot check the search attributes of namespace ${namespace} (${check.cannotCheck}): make sure it has ${Object.keys(SEARCH_ATTRIBUTES).join(', ')}`,
    );
    return;
  }
  const missing = check.problems.filter((problem) => !problem.found);
  const wrongType = check.problems.filter((problem) => problem.found);
  let refusal: string | undefined;
  if (missing.length > 0 && options.create) {
    try {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(
          missing.map(({ name, type }) => [name, INDEXED_VALUE_TYPE_OF[type] as number]),
        ),
      });
      for (const { name, type } of missing)
        options.log?.('info', `created search attribute ${name} (${type}) in namespace ${namespace}`);
      const after = await checkSearchAttributes(connection, namespace);
      if ('cannotCheck' in after || after.problems.length === 0) return;
      return throwProblems(namespace, after.problems, options, undefined);
    } catch (error) {
      if (error instanceof ClientError) throw error;
      refusal = grpcMessage(error);
    }
  }
  if (check.problems.length > 0) throwProblems(namespace, [...missing, ...wrongType], options, refusal);
}

function throwProblems(
  namespace: string,
  problems: SearchAttributeProblem[],
  options: EnsureOptions,
  refusal: string | undefined,
): never {
  throw new ClientError(
    'namespace',
    searchAttributeProblemsMessage(namespace, problems, { ...options, ...(refusal ? { refusal } : {}) }),
  );
}

/** The message: what is missing, and the commands that fix it. */
export function searchAttributeProblemsMessage(
  namespace: string,
  problems: SearchAttributeProblem[],
  options: { what: string; create: boolean; refusal?: string },
): string {
  const missing = problems.filter((problem) => !problem.found);
  const wrongType = problems.filter((problem) => problem.found);
  const lines: string[] = [];
  if (missing.length > 0) {
    lines.push(
      `namespace ${namespace} has no search attribute ${missing.map(({ name, type }) => `${name} (${type})`).join(', ')}, and the workflows write ${missing.length === 1 ? 'it' : 'them'}: ${options.what}.`,
      options.refusal
        ? `The server refused to create ${missing.length === 1 ? 'it' : 'them'} ([temporal] create_search_attributes = true): ${options.refusal}. Create ${missing.length === 1 ? 'it' : 'them'} with an identity that may:`
        : `Create ${missing.length === 1 ? 'it' : 'them'} (or set [temporal] create_search_attributes = true on a self-hosted server to let the worker do it):`,
      ...missing.map(({ name }) => `  ${createSearchAttributeCommand(namespace, name)}`),
    );
  }
  for (const { name, type, found } of wrongType) {
    lines.push(
      `namespace ${namespace} has search attribute ${name} as ${found}, but the workflows write it as ${type}: ${options.what}. Remove it and create it again (runs that used it lose that filter):`,
      `  temporal operator search-attribute remove --namespace ${namespace} --name ${name}`,
      `  ${createSearchAttributeCommand(namespace, name)}`,
    );
  }
  return lines.join('\n');
}

/** The server will not do this for this caller: no permission, or no operator service (Temporal Cloud). */
function refused(error: unknown): boolean {
  // PERMISSION_DENIED, UNIMPLEMENTED, UNAUTHENTICATED
  return isGrpcServiceError(error)
    ? [7, 12, 16].includes(error.code)
    : typeof (error as { code?: unknown }).code === 'number' && [7, 12, 16].includes((error as { code: number }).code);
}

function grpcMessage(error: unknown): string {
  if (isGrpcServiceError(error)) return error.details || error.message;
  return error instanceof Error ? error.message : String(error);
}
