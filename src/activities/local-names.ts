const PREFIX = 'localhost/compose-publisher-tmp';

/** A buildah manifest list name that is plainly local and unique to one run, repository and registry. */
export function localListName(runId: string, repository: string, registryUrl: string): string {
  const registry = registryUrl.replace(/[^a-z0-9]+/g, '-');
  return `${runPrefix(runId)}${repository}-${registry}`;
}

/** Every local name a run creates starts with this. */
export function runPrefix(runId: string): string {
  return `${PREFIX}/${runId.toLowerCase()}/`;
}

/** The workflow run an activity works for; local names are scoped to it so cleanup finds exactly its own. */
export function runIdOf(context: { info: { workflowExecution?: { runId: string } } }): string {
  return context.info.workflowExecution?.runId ?? 'standalone';
}
