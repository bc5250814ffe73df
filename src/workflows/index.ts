export { publishCompose } from './publish-compose.js';
