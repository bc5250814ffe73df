/**
 * What went wrong talking to Temporal about a run, for the caller to present: the CLI turns the kind into an exit
 * code, the listener into a settlement.
 * - bad-request: the request itself is wrong (no such compose, an invalid id, an override the run refuses);
 * - unreachable: Temporal did not answer;
 * - namespace: the namespace lacks what the workflows need (a search attribute): an operator's fix, named in the message;
 * - stuck: a run did not end by the caller's deadline; the message says what it waits for.
 */
export type ClientErrorKind = 'bad-request' | 'unreachable' | 'namespace' | 'stuck';

export class ClientError extends Error {
  override readonly name = 'ClientError';

  constructor(
    readonly kind: ClientErrorKind,
    message: string,
  ) {
    super(message);
  }
}
