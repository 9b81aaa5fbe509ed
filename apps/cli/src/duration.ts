const UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses `90s`, `15m`, `1h`, `30d` into milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!match) {
    throw new Error(
      `invalid duration "${text}": use a number and a unit (ms, s, m, h, d, w), e.g. 30d`,
    );
  }
  return Number(match[1]) * (UNITS_MS[match[2] as string] as number);
}
