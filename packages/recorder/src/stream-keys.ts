import type { StreamFamily } from '@tapedeck/types';
import { extractStreamInfo, mayCarryStreamInfo, parseEventData } from '@tapedeck/types';

/** Keys a tape learns from its stream's leading events. */
export interface LearntKeys {
  upstreamSpanId?: string;
  responseId?: string;
  model?: string;
}

/**
 * Adds what `events` say about the tape's keys to `learnt` (earlier findings win) and returns
 * the result; stops at the first event that names the upstream span or the response.
 *
 * Only events whose data is its family's event (known, or valid JSON of an unknown shape) count,
 * as {@link parseEventData} decides. Most leading events carry no key, so each is first read
 * with `JSON.parse` alone (and data that cannot spell out a key's member name not at all), and
 * the schema check runs only for an event that names a key: the result is the same as checking
 * every event, without a schema validation per delta.
 */
export function learnStreamKeys(
  family: StreamFamily,
  events: ReadonlyArray<{ data: string; type: string }>,
  learnt: LearntKeys,
): LearntKeys {
  let result = learnt;
  for (const event of events) {
    if (!mayCarryStreamInfo(family, event.data)) continue;
    let value: unknown;
    try {
      value = JSON.parse(event.data);
    } catch {
      // Not JSON (or the [DONE] sentinel): parseEventData finds no keys in it either.
      continue;
    }
    const info = extractStreamInfo(family, value);
    if (
      info.upstreamSpanId === undefined &&
      info.responseId === undefined &&
      info.model === undefined
    ) {
      continue;
    }
    if (!parseEventData(family, { data: event.data, type: event.type }).ok) continue;
    result = { ...info, ...result };
    if (result.upstreamSpanId || result.responseId) break;
  }
  return result;
}
