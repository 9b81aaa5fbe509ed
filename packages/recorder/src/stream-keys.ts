import type { StreamFamily } from '@tapedeck/types';
import { extractStreamInfo, parseEventData } from '@tapedeck/types';

/** Keys a tape learns from its stream's leading events. */
export interface LearntKeys {
  upstreamSpanId?: string;
  responseId?: string;
  model?: string;
}

/**
 * The member names an event's data must spell out to carry its family's keys (see
 * `extractStreamInfo`). Data that has none of them, and no `\u` escape that could spell one,
 * cannot name a key: it is not parsed. The leading events are mostly deltas, and parsing each
 * one cost more than the rest of a stream's key scan.
 */
const KEY_MEMBERS: Record<StreamFamily, readonly string[]> = {
  opper: ['"span_id"'],
  openresponses: ['"response"'],
  'chat-completions': ['"id"', '"model"'],
  sse: [],
};

function mayNameKeys(family: StreamFamily, data: string): boolean {
  const members = KEY_MEMBERS[family];
  if (members.length === 0) return false;
  for (const member of members) if (data.includes(member)) return true;
  return data.includes('\\u');
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
    if (!mayNameKeys(family, event.data)) continue;
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
