/**
 * Markdown for the Temporal UI's summary and details fields, from text that may come from anyone (an override's
 * reason, a rejected signal's payload): one line, every character markdown or HTML would act on escaped, so it
 * renders as the text it is and never breaks out of its table cell.
 */
export function markdownText(text: string): string {
  return oneLine(text).replace(/[\\`*_{}[\]()<>#+!|~&]/g, (char) => `\\${char}`);
}

/** Inline code, e.g. a command to paste; a pipe is escaped (GFM tables split cells on it even in code). */
export function markdownCode(text: string): string {
  const line = oneLine(text).replaceAll('|', '\\|');
  const longestRun = Math.max(0, ...(line.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = line.startsWith('`') || line.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${line}${pad}${fence}`;
}

/** A GFM table; cells are markdown already (escape text with markdownText first). */
export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((cell) => cell || ' ').join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
}
