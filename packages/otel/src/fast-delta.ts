// A fast path for OpenResponses delta events, the bulk of every stream. Telemetry needs only a
// few top-level numbers, the item id and the delta's length, so instead of JSON.parse (most of
// the per-event cost) it finds them by key. This is exact for valid JSON: inside a JSON string
// every `"` is escaped, so `"key":` can only occur as a real key. Anything unexpected returns
// undefined and the caller falls back to JSON.parse.

/** What telemetry needs from one delta event. */
export interface DeltaFields {
  sequenceNumber?: number;
  outputIndex?: number;
  contentIndex?: number;
  itemId?: string;
  /** Length of the decoded `delta` string in UTF-16 code units (what `string.length` gives). */
  characters: number;
}

function integerAfter(data: string, key: string): number | undefined | null {
  const at = data.indexOf(key);
  if (at === -1) return undefined;
  let position = at + key.length;
  let value = 0;
  let digits = 0;
  for (; position < data.length; position += 1) {
    const code = data.charCodeAt(position);
    if (code < 48 || code > 57) break;
    value = value * 10 + (code - 48);
    digits += 1;
  }
  // `null`, a sign, spaces or a fraction: let JSON.parse decide.
  return digits === 0 ? null : value;
}

/** Reads the fields of a compact-JSON OpenResponses `*.delta` event, or undefined to fall back. */
export function readDeltaFields(data: string): DeltaFields | undefined {
  const start = data.indexOf('"delta":"');
  if (start === -1) return undefined;
  let characters = 0;
  let position = start + 9;
  const length = data.length;
  for (;;) {
    if (position >= length) return undefined;
    const code = data.charCodeAt(position);
    if (code === 34 /* " */) break;
    if (code === 92 /* \ */) {
      const escaped = data.charCodeAt(position + 1);
      // \uXXXX is one code unit; every other escape is one character.
      position += escaped === 117 /* u */ ? 6 : 2;
    } else {
      position += 1;
    }
    characters += 1;
  }
  const sequenceNumber = integerAfter(data, '"sequence_number":');
  const outputIndex = integerAfter(data, '"output_index":');
  let contentIndex = integerAfter(data, '"content_index":');
  if (contentIndex === undefined) contentIndex = integerAfter(data, '"summary_index":');
  if (sequenceNumber === null || outputIndex === null || contentIndex === null) return undefined;
  let itemId: string | undefined;
  const idAt = data.indexOf('"item_id":"');
  if (idAt !== -1) {
    const idStart = idAt + 11;
    const idEnd = data.indexOf('"', idStart);
    if (idEnd === -1) return undefined;
    itemId = data.slice(idStart, idEnd);
    // An escaped id would need decoding.
    if (itemId.includes('\\')) return undefined;
  }
  return { sequenceNumber, outputIndex, contentIndex, itemId, characters };
}
