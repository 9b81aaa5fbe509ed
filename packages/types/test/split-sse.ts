import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One event as the tests need it. */
export interface SplitEvent {
  type?: string;
  data: string;
}

/**
 * A deliberately tiny SSE splitter for test fixtures (the real parser lives in @tapedeck/sse,
 * which depends on this package, so it is not used here): LF / CR / CRLF line ends, comments,
 * `event:` and multi-line `data:`; an event without a blank line after it is dropped.
 */
export function splitSse(text: string): SplitEvent[] {
  const events: SplitEvent[] = [];
  let type: string | undefined;
  let data: string[] | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (data !== undefined)
        events.push({ ...(type !== undefined && { type }), data: data.join('\n') });
      type = undefined;
      data = undefined;
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') data = [...(data ?? []), value];
  }
  return events;
}

/**
 * The shared sample streams (`../shared/formats/samples/` beside the repository). They are
 * copied into `src/__fixtures__/samples/` so the tests run from any clone; a test checks the
 * copies still equal the originals wherever those exist.
 */
export const sharedSamplesDirectory = fileURLToPath(
  new URL('../../../../shared/formats/samples/', import.meta.url),
);
/** This package's copies of the shared samples. */
export const samplesDirectory = fileURLToPath(
  new URL('../src/__fixtures__/samples/', import.meta.url),
);
/** This package's hand-written fixtures. */
export const fixturesDirectory = fileURLToPath(new URL('../src/__fixtures__/', import.meta.url));

/** Reads every `.sse` file of a directory: `[name, events]`. */
export function readStreams(directory: string): Array<[string, SplitEvent[]]> {
  return readdirSync(directory)
    .filter((name) => name.endsWith('.sse'))
    .sort()
    .map((name) => [name, splitSse(readFileSync(`${directory}${name}`, 'utf8'))]);
}

/** The family a sample or fixture belongs to, from its file name. */
export function familyOfFile(name: string): 'opper' | 'openresponses' | 'chat-completions' {
  if (name.startsWith('opper-')) return 'opper';
  if (name.startsWith('openresponses-')) return 'openresponses';
  return 'chat-completions';
}
