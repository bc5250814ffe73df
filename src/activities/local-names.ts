const PREFIX = 'localhost/compose-publisher-tmp';

/** Every local name a run created (buildah manifest lists, by versions before the worker wrote indexes itself) starts with this. */
export function runPrefix(runId: string): string {
  return `${PREFIX}/${runId.toLowerCase()}/`;
}

/** The workflow run an activity works for; local names are scoped to it so cleanup finds exactly its own. */
export function runIdOf(context: { info: { workflowExecution?: { runId: string } } }): string {
  return context.info.workflowExecution?.runId ?? 'standalone';
}
