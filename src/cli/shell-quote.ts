export { shellQuote } from '../domain/shell-quote.js';
