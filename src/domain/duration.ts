const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a config duration like "72h", "30m", "90s", "500ms" or "2d" (the shapes config validation allows). */
export function durationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a duration like "72h", "30m" or "90s"`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}
