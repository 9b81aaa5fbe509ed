import { TapedeckError } from '@tapedeck/types';

/** Fields of one SSE event to write. */
export interface EncodeEventInput {
  /** The payload. Line breaks (LF, CR or CRLF) split it into several `data:` lines. */
  data: string;
  /** The event type (`event:` line); must not contain CR or LF. */
  event?: string;
  /** The event id (`id:` line); must not contain CR, LF or NULL. */
  id?: string;
  /** Reconnection time in milliseconds (`retry:` line); a non-negative integer. */
  retry?: number;
  /** Comment lines written before the fields; a comment with line breaks becomes several. */
  comments?: string[];
}

const encoder = new TextEncoder();
const lineBreak = /\r\n|\r|\n/;

function invalid(message: string): TapedeckError {
  return new TapedeckError({ code: 'INVALID_ARGUMENT', message });
}

/**
 * The text of one event, ending with the blank line that dispatches it. Every value is written
 * after `: `, so a parser that strips one leading space gets the value back unchanged.
 */
export function encodeEventText({ data, event, id, retry, comments }: EncodeEventInput): string {
  let text = '';
  if (comments !== undefined) {
    for (const comment of comments) {
      for (const line of comment.split(lineBreak)) text += `: ${line}\n`;
    }
  }
  if (event !== undefined) {
    if (event.includes('\n') || event.includes('\r'))
      throw invalid(
        `encodeEvent: the event type ${JSON.stringify(event)} contains CR or LF, which would end the line early; remove the line break.`,
      );
    text += `event: ${event}\n`;
  }
  if (id !== undefined) {
    if (id.includes('\n') || id.includes('\r') || id.includes('\0'))
      throw invalid(
        `encodeEvent: the id ${JSON.stringify(id)} contains CR, LF or NULL; a parser would split or ignore it.`,
      );
    text += `id: ${id}\n`;
  }
  if (retry !== undefined) {
    if (!Number.isSafeInteger(retry) || retry < 0)
      throw invalid(
        `encodeEvent: retry must be a non-negative integer of milliseconds, got ${retry}`,
      );
    text += `retry: ${retry}\n`;
  }
  if (typeof data !== 'string')
    throw invalid(
      `encodeEvent: data must be a string, got ${data === null ? 'null' : typeof data}`,
    );
  if (data.includes('\n') || data.includes('\r')) {
    for (const line of data.split(lineBreak)) text += `data: ${line}\n`;
  } else {
    text += `data: ${data}\n`;
  }
  return `${text}\n`;
}

/**
 * Encodes one event as spec-valid UTF-8 SSE bytes, ending with the blank line that dispatches
 * it. Multi-line data becomes several `data:` lines (CR and CRLF in data come back as LF, the
 * only line break SSE data can carry).
 *
 * @throws TapedeckError (`INVALID_ARGUMENT`) when `event` or `id` contains a line break (or
 * `id` a NULL), or `retry` is not a non-negative integer — instead of writing a broken stream.
 *
 * @example
 * ```ts
 * encodeEvent({ event: 'response.output_text.delta', data: '{"delta":"Hi"}' });
 * // bytes of "event: response.output_text.delta\ndata: {\"delta\":\"Hi\"}\n\n"
 * ```
 */
export function encodeEvent(input: EncodeEventInput): Uint8Array {
  return encoder.encode(encodeEventText(input));
}
