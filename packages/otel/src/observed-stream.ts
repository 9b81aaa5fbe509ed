// The stream an instrumented body is read from. A plain pull-through ReadableStream costs Node's
// web streams a second read request, enqueue, pull promise and fulfilment per chunk: about
// 0.45 µs, as much as all the telemetry. This one is a real ReadableStream whose own readers
// (`getReader()`, `for await`) read the source directly and see each chunk on the way, one
// `then` per chunk. Everything else (`pipeTo`, `pipeThrough`, `tee`, `Response.clone()`, a
// reader built with `new ReadableStreamDefaultReader`) goes through the stream's underlying
// source, the pull-through path, so both paths keep one order and one lock.

/** The underlying source of an {@link ObservedStream}: the pull-through path and the direct one. */
export interface DirectSource extends UnderlyingDefaultSource<Uint8Array> {
  /**
   * Whether a read may go straight to the source now: nothing queued in the stream, no pull in
   * flight and no read of a released reader still pending, any of which must come first.
   */
  canReadDirectly(): boolean;
  /** Reads the next chunk straight from the source for `reader`, observed on its way. */
  readDirectly(reader: ObservedReader): Promise<ReadableStreamReadResult<Uint8Array>>;
  /** `reader` was released: its direct reads still pending belong to the stream again. */
  releaseDirectReads(reader: ObservedReader): void;
}

/**
 * A reader of an {@link ObservedStream}. A `ReadableStreamDefaultReader` that holds the stream's
 * real lock (so `locked`, `closed`, `cancel` and `releaseLock` are the platform's), whose
 * `read()` goes straight to the source when nothing else has to come first.
 */
export class ObservedReader extends ReadableStreamDefaultReader<Uint8Array> {
  readonly #source: DirectSource;
  /** An async iterator's reader: released when the stream ends or fails, as the spec's is. */
  readonly iterating: boolean;
  /** The iteration is over: every further `next()` is done. */
  finished = false;

  constructor(stream: ObservedStream, source: DirectSource, iterating: boolean) {
    super(stream);
    this.#source = source;
    this.iterating = iterating;
  }

  override read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    if (this.#source.canReadDirectly() && !this.finished) return this.#source.readDirectly(this);
    // Through the stream (a released reader gets the platform's own rejection); an iteration
    // that ends there lets go of the stream as the direct path does.
    const read = super.read();
    if (!this.iterating || this.finished) return read;
    return read.then(
      (result) => {
        if (result.done) this.finishIteration();
        return result;
      },
      (error: unknown) => {
        this.finishIteration();
        throw error;
      },
    );
  }

  override releaseLock(): void {
    this.#source.releaseDirectReads(this);
    super.releaseLock();
  }

  /** Ends an iteration: the stream ended or failed under `for await`. */
  finishIteration(): void {
    if (this.finished) return;
    this.finished = true;
    super.releaseLock();
  }
}

/** `stream.values()` over an {@link ObservedReader}, with the spec's `preventCancel`. */
class ObservedIterator implements AsyncIterableIterator<Uint8Array> {
  readonly #reader: ObservedReader;
  readonly #preventCancel: boolean;

  constructor(reader: ObservedReader, preventCancel: boolean) {
    this.#reader = reader;
    this.#preventCancel = preventCancel;
  }

  // The read result is already an iterator result; the reader releases itself when it is done.
  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#reader.finished) return Promise.resolve({ done: true, value: undefined });
    return this.#reader.read() as Promise<IteratorResult<Uint8Array>>;
  }

  return(value?: unknown): Promise<IteratorResult<Uint8Array>> {
    const reader = this.#reader;
    const result: IteratorResult<Uint8Array> = { done: true, value: value as undefined };
    if (reader.finished) return Promise.resolve(result);
    reader.finished = true;
    if (this.#preventCancel) {
      reader.releaseLock();
      return Promise.resolve(result);
    }
    const cancelled = reader.cancel(value);
    reader.releaseLock();
    return cancelled.then(() => result);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }
}

/** See the top of this file. No queue (high-water mark 0): nothing is read before it is asked for. */
export class ObservedStream extends ReadableStream<Uint8Array> {
  readonly #source: DirectSource;

  constructor(source: DirectSource) {
    super(source, { highWaterMark: 0 });
    this.#source = source;
  }

  override getReader(options: { mode: 'byob' }): ReadableStreamBYOBReader;
  override getReader(): ReadableStreamDefaultReader<Uint8Array>;
  override getReader(options?: ReadableStreamGetReaderOptions): ReadableStreamReader<Uint8Array>;
  override getReader(options?: ReadableStreamGetReaderOptions): ReadableStreamReader<Uint8Array> {
    // `byob` (and anything unknown) gets the platform's answer: this is not a byte stream.
    if (options?.mode !== undefined) return super.getReader(options);
    return new ObservedReader(this, this.#source, false);
  }

  values(options?: { preventCancel?: boolean }): AsyncIterableIterator<Uint8Array> {
    return new ObservedIterator(
      new ObservedReader(this, this.#source, true),
      options?.preventCancel === true,
    );
  }
}

// `for await` uses it, as the platform's own `ReadableStream.prototype[Symbol.asyncIterator]`
// is `values`. Set on the prototype: whether the base class declares it depends on the
// typings in use.
Object.defineProperty(ObservedStream.prototype, Symbol.asyncIterator, {
  value: ObservedStream.prototype.values,
  writable: true,
  configurable: true,
});
