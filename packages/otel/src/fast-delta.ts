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

/**
 * The non-negative integer after the first `key` at or after `from`: undefined without the key,
 * null when what follows is not plain digits.
 */
function integerAfter(data: string, key: string, from = 0): number | undefined | null {
  const at = data.indexOf(key, from);
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
  // `null`, a sign, spaces, a fraction or an exponent: let JSON.parse decide.
  if (digits === 0 || isFractionOrExponent(data.charCodeAt(position))) return null;
  return value;
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

const SEQUENCE_KEY = '"sequence_number":';
const DELTA_KEY = '"delta":"';

/**
 * The layout of one stream's delta events, learnt from one of them: deltas of a stream differ
 * only in their sequence number and their text, so the bytes before the text can be compared
 * whole instead of searched key by key. Made by {@link deltaTemplateOf}, used by
 * {@link readDeltaFieldsByTemplate}.
 */
export interface DeltaTemplate {
  /** Everything before the sequence number's digits (or before the text, without that hole). */
  readonly head: string;
  /** Between the sequence number's digits and the text ('' without the hole). */
  readonly middle: string;
  /** Whether `sequence_number` sits before the text, as a hole between `head` and `middle`. */
  readonly sequenceHole: boolean;
  readonly outputIndex: number | undefined;
  readonly contentIndex: number | undefined;
  readonly itemId: string | undefined;
  /** Keys telemetry reads that are not before the text: searched after it in every event. */
  readonly keysAfter: readonly string[];
}

/**
 * Learns the layout of `data`, a delta event {@link readDeltaFields} could read. `fields` is what
 * it read of `data`, for a caller that has it already (the event is then not read twice).
 */
export function deltaTemplateOf(
  data: string,
  fields: DeltaFields | undefined = readDeltaFields(data),
): DeltaTemplate | undefined {
  if (!fields) return undefined;
  const deltaKeyAt = data.indexOf(DELTA_KEY);
  const textStart = deltaKeyAt + DELTA_KEY.length;
  // A key counts as before the text when its first occurrence (the one readDeltaFields uses)
  // is there; the same bytes in a later event then hold the same value.
  const before = (key: string) => {
    const at = data.indexOf(key);
    return at !== -1 && at < deltaKeyAt;
  };
  const keysAfter: string[] = [];
  const sequenceAt = data.indexOf(SEQUENCE_KEY);
  let head = data.slice(0, textStart);
  let middle = '';
  const sequenceHole = sequenceAt !== -1 && sequenceAt < deltaKeyAt;
  if (sequenceHole) {
    const digitsStart = sequenceAt + SEQUENCE_KEY.length;
    let digitsEnd = digitsStart;
    while (isDigit(data.charCodeAt(digitsEnd))) digitsEnd += 1;
    head = data.slice(0, digitsStart);
    middle = data.slice(digitsEnd, textStart);
  } else {
    keysAfter.push(SEQUENCE_KEY);
  }
  // The template holds only values read before the text; a key found after the text in some
  // event sends that event to the full path.
  let outputIndex: number | undefined;
  if (before('"output_index":')) outputIndex = fields.outputIndex;
  else keysAfter.push('"output_index":');
  let itemId: string | undefined;
  if (before('"item_id":"')) itemId = fields.itemId;
  else keysAfter.push('"item_id":"');
  let contentIndex: number | undefined;
  if (before('"content_index":')) {
    contentIndex = fields.contentIndex;
  } else {
    keysAfter.push('"content_index":');
    if (before('"summary_index":')) {
      // Read here, not by readDeltaFields, which stopped at the content index after the text.
      const summaryIndex = integerAfter(data, '"summary_index":');
      if (summaryIndex === null) return undefined;
      contentIndex = summaryIndex;
    } else keysAfter.push('"summary_index":');
  }
  return { head, middle, sequenceHole, outputIndex, contentIndex, itemId, keysAfter };
}

function isFractionOrExponent(code: number): boolean {
  return code === 46 /* . */ || code === 101 /* e */ || code === 69 /* E */;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * Reads a delta event laid out like the template's: the same answer as
 * {@link readDeltaFields}, or undefined when `data` does not fit the template (then ask
 * `readDeltaFields`). Costs two string comparisons and a walk over the text, where
 * `readDeltaFields` searches the whole event once per key. With `into`, the answer is written
 * there instead of into a new object. With `head`, `data` is read as that string followed by
 * what follows `template.head` in a delta's data: a caller holding the data behind a fixed
 * prefix (a whole SSE frame) passes the prefix and the head joined, and saves a comparison.
 */
export function readDeltaFieldsByTemplate(
  data: string,
  template: DeltaTemplate,
  into?: DeltaFields,
  head: string = template.head,
): DeltaFields | undefined {
  // lastIndexOf(x, at) === at is startsWith(x, at) without V8's slow startsWith (which walks
  // the characters several times slower) and without allocating a slice to compare.
  if (data.lastIndexOf(head, 0) !== 0) return undefined;
  let position = head.length;
  let sequenceNumber: number | undefined;
  if (template.sequenceHole) {
    let value = 0;
    const digitsStart = position;
    for (;;) {
      const code = data.charCodeAt(position);
      // Past the end charCodeAt gives NaN, which isDigit says is not a digit.
      if (!isDigit(code)) break;
      value = value * 10 + (code - 48);
      position += 1;
    }
    if (position === digitsStart) return undefined;
    sequenceNumber = value;
    const middle = template.middle;
    if (data.lastIndexOf(middle, position) !== position) return undefined;
    position += middle.length;
  }
  let characters = 0;
  const length = data.length;
  for (;;) {
    if (position >= length) return undefined;
    const code = data.charCodeAt(position);
    if (code === 34 /* " */) break;
    if (code === 92 /* \ */) {
      // \uXXXX is one code unit; every other escape is one character.
      position += data.charCodeAt(position + 1) === 117 /* u */ ? 6 : 2;
    } else {
      position += 1;
    }
    characters += 1;
  }
  const keysAfter = template.keysAfter;
  for (let index = 0; index < keysAfter.length; index += 1) {
    const key = keysAfter[index] as string;
    // Only a sequence number after the text is read here; anything else takes the full path.
    if (key !== SEQUENCE_KEY) {
      if (data.indexOf(key, position) !== -1) return undefined;
      continue;
    }
    const value = integerAfter(data, key, position);
    if (value === null) return undefined;
    if (value !== undefined) sequenceNumber = value;
  }
  if (into === undefined) {
    return {
      sequenceNumber,
      outputIndex: template.outputIndex,
      contentIndex: template.contentIndex,
      itemId: template.itemId,
      characters,
    };
  }
  into.sequenceNumber = sequenceNumber;
  into.outputIndex = template.outputIndex;
  into.contentIndex = template.contentIndex;
  into.itemId = template.itemId;
  into.characters = characters;
  return into;
}
