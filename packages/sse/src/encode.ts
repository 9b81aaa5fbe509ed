/** Fields of one SSE event to write. */
export interface EncodeEventInput {
  data: string;
  event?: string;
  id?: string;
  retry?: number;
  comments?: string[];
}

const encoder = new TextEncoder();

/**
 * Encodes one event as spec-valid SSE bytes, ending with the blank line that dispatches it.
 * Multi-line data becomes several `data:` lines.
 *
 * @throws TypeError when `event` or `id` contains a line break, which would split the event.
 */
export function encodeEvent({
  data,
  event,
  id,
  retry,
  comments = [],
}: EncodeEventInput): Uint8Array {
  let text = '';
  for (const comment of comments) {
    for (const line of comment.split(/\r\n|\r|\n/)) text += `:${line}\n`;
  }
  if (event !== undefined) {
    if (/[\r\n]/.test(event))
      throw new TypeError('[tapedeck] SSE event type must not contain CR or LF');
    text += `event: ${event}\n`;
  }
  if (id !== undefined) {
    if (/[\r\n\0]/.test(id))
      throw new TypeError('[tapedeck] SSE id must not contain CR, LF or NULL');
    text += `id: ${id}\n`;
  }
  if (retry !== undefined) {
    if (!Number.isInteger(retry) || retry < 0)
      throw new TypeError('[tapedeck] SSE retry must be a non-negative integer');
    text += `retry: ${retry}\n`;
  }
  for (const line of data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`;
  return encoder.encode(`${text}\n`);
}
