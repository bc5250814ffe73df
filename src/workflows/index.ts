export { publishCompose } from './publish-compose.js';
export { indexLock } from './legacy/index-lock.js';
export { repositoryLock } from './repository-lock.js';
export { reportStaleness } from './report-staleness.js';
