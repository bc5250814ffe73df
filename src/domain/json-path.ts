const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Formats a path into a JSON document the way people write it: payload.images.Container.x86_64[0].path */
export function formatJsonPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out === '' ? '(the top level)' : out;
}

/** Appends segments to an already formatted path. */
export function appendJsonPath(base: string, ...segments: PropertyKey[]): string {
  const tail = formatJsonPath(segments);
  if (segments.length === 0) return base;
  return tail.startsWith('[') ? `${base}${tail}` : `${base}.${tail}`;
}
