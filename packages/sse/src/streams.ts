import { type EncodeEventInput, encodeEventText } from './encode.js';
import {
  createParser,
  type ParseError,
  type ParserMode,
  type SseEvent,
  type SseParser,
} from './parser.js';

/** Options for {@link SseParserStream}. */
export interface SseParserStreamOptions {
  /** `full` (default) decodes every event's data; `framing` decodes `data` on access. */
  mode?: ParserMode;
  /** Largest event in bytes (default 16 MiB); see `createParser`. */
  maxEventBytes?: number;
  /**
   * What to do with a {@link ParseError} (an event over `maxEventBytes`, or an incomplete event
   * when the input ends): `'ignore'` (default) drops it, `'terminate'` errors the stream with
   * it, a function is called with it.
   */
  onError?: 'ignore' | 'terminate' | ((error: ParseError) => void);
  /** Called for every comment line. */
  onComment?: (comment: string) => void;
  /** Called for every valid `retry` value, in milliseconds. */
  onRetry?: (retryMs: number) => void;
}

/**
 * A web `TransformStream` from SSE bytes (or strings) to parsed events ({@link SseEvent}), built on
 * `createParser`.
 *
 * @example
 * ```ts
 * const response = await fetch(url);
 * for await (const event of response.body!.pipeThrough(new SseParserStream())) {
 *   console.log(event.type, event.data);
 * }
 * ```
 */
export class SseParserStream extends TransformStream<Uint8Array | string, SseEvent> {
  constructor({
    mode,
    maxEventBytes,
    onError = 'ignore',
    onComment,
    onRetry,
  }: SseParserStreamOptions = {}) {
    let parser: SseParser | undefined;
    super({
      start: (controller) => {
        parser = createParser({
          mode,
          ...(maxEventBytes !== undefined ? { maxEventBytes } : {}),
          onEvent: (event) => controller.enqueue(event),
          onError: (error) => {
            if (onError === 'terminate') controller.error(error);
            else if (typeof onError === 'function') onError(error);
          },
          ...(onComment ? { onComment } : {}),
          ...(onRetry ? { onRetry } : {}),
        });
      },
      transform: (chunk) => {
        parser?.feed(chunk);
      },
      flush: () => {
        parser?.end();
      },
    });
  }
}

const textEncoder = new TextEncoder();

/**
 * A web `TransformStream` from events to spec-valid SSE bytes (each event through
 * `encodeEvent`); an invalid event errors the stream with the `INVALID_ARGUMENT` TapedeckError.
 *
 * @example
 * ```ts
 * const body = ReadableStream.from([{ data: 'hello' }, { event: 'done', data: '' }])
 *   .pipeThrough(new SseEncoderStream());
 * return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
 * ```
 */
export class SseEncoderStream extends TransformStream<EncodeEventInput, Uint8Array> {
  constructor() {
    super({
      transform: (event, controller) => {
        controller.enqueue(textEncoder.encode(encodeEventText(event)));
      },
    });
  }
}
