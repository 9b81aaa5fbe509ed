// For floors in the benchmarks: the cheapest way to see every chunk of a body without a second
// stream's machinery, as `observeStream` (@tapedeck/types) does for the recorder and the
// telemetry, which also keeps a pull path for pipes and tee. A ReadableStream whose own reader
// holds the stream's lock and reads `body` directly, passing each read result through `onRead`.

type OnRead = (
  result: ReadableStreamReadResult<Uint8Array>,
) => ReadableStreamReadResult<Uint8Array>;

class DirectReader extends ReadableStreamDefaultReader<Uint8Array> {
  readonly #body: ReadableStreamDefaultReader<Uint8Array>;
  readonly #onRead: OnRead;
  constructor(
    stream: ReadableStream<Uint8Array>,
    body: ReadableStreamDefaultReader<Uint8Array>,
    onRead: OnRead,
  ) {
    super(stream);
    this.#body = body;
    this.#onRead = onRead;
  }
  override read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    return this.#body.read().then(this.#onRead);
  }
}

export class DirectStream extends ReadableStream<Uint8Array> {
  readonly #body: ReadableStreamDefaultReader<Uint8Array>;
  readonly #onRead: OnRead;
  constructor(body: ReadableStream<Uint8Array>, onRead: OnRead) {
    super({}, { highWaterMark: 0 });
    this.#body = body.getReader();
    this.#onRead = onRead;
  }
  override getReader(options: { mode: 'byob' }): ReadableStreamBYOBReader;
  override getReader(): ReadableStreamDefaultReader<Uint8Array>;
  override getReader(options?: ReadableStreamGetReaderOptions): ReadableStreamReader<Uint8Array>;
  override getReader(options?: ReadableStreamGetReaderOptions): ReadableStreamReader<Uint8Array> {
    if (options?.mode !== undefined) return super.getReader(options);
    return new DirectReader(this, this.#body, this.#onRead);
  }
}
