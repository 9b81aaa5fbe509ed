// A body stream that lets the recorder and the telemetry see every chunk on its way to the
// consumer, without tee() and without a second stream's machinery per chunk.
//
// A plain pull-through ReadableStream costs Node's web streams a second read request, enqueue,
// pull promise and fulfilment per chunk: about 0.5 µs, as much as all the telemetry of a chunk.
// The stream made here is a real ReadableStream whose own readers (`getReader()`, `for await`)
// read the body directly and see each chunk on the way, one `then` per chunk. Everything else
// (`pipeTo`, `pipeThrough`, `tee`, `Response.clone()`, a reader built with
// `new ReadableStreamDefaultReader`) goes through the stream's underlying source, the
// pull-through path, so both paths keep one order and one lock.

/** What sees the chunks of a stream made by {@link observeStream}. Its methods must not throw. */
export interface StreamObserver {
  /** The consumer asks for the next chunk. */
  onRead?(): void;
  /** A chunk of the body, as it is handed to the consumer (never copied or changed). */
  onChunk(chunk: Uint8Array): void;
  /** The body ended; the consumer is told next. */
  onEnd(): void;
  /** The body failed; the consumer gets the same error. */
  onError(error: unknown): void;
  /** The consumer cancelled the stream; the body is cancelled next. */
  onCancel(reason: unknown): void;
}

/**
 * Returns a stream that reads `body` on the consumer's demand (nothing is read ahead, nothing
 * buffered) and shows each chunk to `observer` on its way.
 *
 * @example
 * ```ts
 * const observed = observeStream(response.body, {
 *   onChunk: (chunk) => bytes.push(chunk.byteLength),
 *   onEnd: () => {},
 *   onError: () => {},
 *   onCancel: () => {},
 * });
 * ```
 */
export function observeStream(
  body: ReadableStream<Uint8Array>,
  observer: StreamObserver,
): ReadableStream<Uint8Array> {
  return new ObservedStream(new BodySource(body, observer));
}

const releasedReadMessage =
  '[tapedeck] the reader was released while this read was pending; the chunk stays in the stream for the next reader';

/**
 * The underlying source of an {@link ObservedStream}: the pull-through path (`pull`) and the
 * direct one (`readDirectly`), in one order. A class, not closures: it runs for every chunk of
 * every stream, and optimized code specialised on one stream's closures is thrown away with
 * that stream.
 */
class BodySource implements UnderlyingDefaultSource<Uint8Array> {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #observer: StreamObserver;
  // Set in start(), which the ReadableStream constructor calls before anything can read.
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  /** The stream was closed, errored or cancelled: reads go to it, not to the body. */
  #settled = false;
  /** A pull is waiting for the body: a direct read would overtake it. */
  #pulling = false;
  /**
   * The stream was read through once (a pull), which is what marks it disturbed (a Response
   * around it is then `bodyUsed`): the first read of a stream always goes through it.
   */
  #pulledOnce = false;
  /** The stream holds chunks no read was waiting for (a released reader's): they come first. */
  #queued = false;
  #directReads = 0;
  /** Direct reads of a released reader: their chunks go into the stream, in order. */
  #orphanedReads = 0;
  #directReader: ObservedReader | undefined;
  // Bound once per stream: the read promises' handlers.
  readonly #onPulled: (result: ReadableStreamReadResult<Uint8Array>) => void;
  readonly #onPullError: (error: unknown) => never;
  readonly #onDirectChunk: (
    result: ReadableStreamReadResult<Uint8Array>,
  ) => ReadableStreamReadResult<Uint8Array>;
  readonly #onDirectError: (error: unknown) => never;

  constructor(body: ReadableStream<Uint8Array>, observer: StreamObserver) {
    this.#reader = body.getReader();
    this.#observer = observer;
    this.#onPulled = this.#handlePulled.bind(this);
    this.#onPullError = this.#handlePullError.bind(this);
    this.#onDirectChunk = this.#handleDirectChunk.bind(this);
    this.#onDirectError = this.#handleDirectError.bind(this);
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
  }

  // No async function per pull: a promise fewer for every chunk.
  pull(): Promise<void> {
    this.#observer.onRead?.();
    this.#pulling = true;
    this.#pulledOnce = true;
    return this.#reader.read().then(this.#onPulled, this.#onPullError);
  }

  cancel(reason: unknown): Promise<void> {
    this.#settled = true;
    this.#observer.onCancel(reason);
    return this.#reader.cancel(reason);
  }

  /**
   * Whether a read may go straight to the body now: nothing queued in the stream, no pull in
   * flight and no read of a released reader still pending, any of which must come first.
   */
  canReadDirectly(): boolean {
    if (this.#settled || this.#pulling || this.#orphanedReads > 0 || !this.#pulledOnce) {
      return false;
    }
    if (this.#queued) {
      // High-water mark 0: the desired size is minus what the stream holds.
      if (this.#controller.desiredSize !== 0) return false;
      this.#queued = false;
    }
    return true;
  }

  /** Reads the next chunk straight from the body for `reader`, observed on its way. */
  readDirectly(reader: ObservedReader): Promise<ReadableStreamReadResult<Uint8Array>> {
    this.#observer.onRead?.();
    this.#directReads += 1;
    this.#directReader = reader;
    return this.#reader.read().then(this.#onDirectChunk, this.#onDirectError);
  }

  /** `reader` was released: its direct reads still pending belong to the stream again. */
  releaseDirectReads(reader: ObservedReader): void {
    if (reader !== this.#directReader) return;
    this.#directReader = undefined;
    // The body answers reads in order: the pending ones are the oldest and all this reader's.
    this.#orphanedReads = this.#directReads;
  }

  #handlePulled(result: ReadableStreamReadResult<Uint8Array>): void {
    this.#pulling = false;
    this.#accept(result);
  }

  /** A read's result that goes into the stream: a pull's, or a released reader's direct read's. */
  #accept(result: ReadableStreamReadResult<Uint8Array>): void {
    if (result.done) {
      this.#end();
      return;
    }
    if (this.#settled) return;
    const chunk = result.value;
    // Fulfils a waiting read, or stays in the stream's queue (a released reader's chunk).
    this.#controller.enqueue(chunk);
    if (this.#controller.desiredSize !== 0) this.#queued = true;
    this.#observer.onChunk(chunk);
  }

  #handlePullError(error: unknown): never {
    this.#pulling = false;
    this.#fail(error);
    throw error;
  }

  /** A direct read settled: false when it was a released reader's (see `releaseDirectReads`). */
  #settleDirectRead(): boolean {
    this.#directReads -= 1;
    if (this.#orphanedReads > 0) {
      this.#orphanedReads -= 1;
      return false;
    }
    return true;
  }

  /** The stream ended or failed: a `for await` over it lets go of it, as the platform's does. */
  #endIteration(): void {
    const reader = this.#directReader;
    if (reader?.iterating) reader.finishIteration();
  }

  /** A direct read's chunk: observed, then handed to the reader as the body gave it. */
  #handleDirectChunk(
    result: ReadableStreamReadResult<Uint8Array>,
  ): ReadableStreamReadResult<Uint8Array> {
    if (!this.#settleDirectRead()) {
      // Its reader was released: the chunk (or the end) goes into the stream for the next. A
      // pull may be waiting for the body behind it: that one still is.
      this.#accept(result);
      throw new TypeError(releasedReadMessage);
    }
    if (result.done) {
      this.#end();
      this.#endIteration();
      return result;
    }
    if (!this.#settled) this.#observer.onChunk(result.value);
    return result;
  }

  #handleDirectError(error: unknown): never {
    const own = this.#settleDirectRead();
    this.#fail(error);
    if (!own) throw new TypeError(releasedReadMessage);
    this.#endIteration();
    // The consumer sees the body's own error.
    throw error;
  }

  /** The body ended: the observer hears of it, then the stream closes. */
  #end(): void {
    // After a cancel the pending read resolves as done and the stream is already closed.
    if (this.#settled) return;
    this.#settled = true;
    this.#observer.onEnd();
    this.#controller.close();
  }

  /** The body failed: the observer hears of it, and the stream errors. */
  #fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#observer.onError(error);
    this.#controller.error(error);
  }
}

/**
 * A reader of an {@link ObservedStream}. A `ReadableStreamDefaultReader` that holds the stream's
 * real lock (so `locked`, `closed`, `cancel` and `releaseLock` are the platform's), whose
 * `read()` goes straight to the body when nothing else has to come first.
 */
class ObservedReader extends ReadableStreamDefaultReader<Uint8Array> {
  readonly #source: BodySource;
  /** An async iterator's reader: released when the stream ends or fails, as the spec's is. */
  readonly iterating: boolean;
  /** The iteration is over: every further `next()` is done. */
  finished = false;

  constructor(stream: ObservedStream, source: BodySource, iterating: boolean) {
    super(stream);
    this.#source = source;
    this.iterating = iterating;
  }

  override read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    // (An iterator never reads once `finished`: its `next` answers done itself.)
    if (this.#source.canReadDirectly()) return this.#source.readDirectly(this);
    // Through the stream (a released reader gets the platform's own rejection); an iteration
    // that ends there lets go of the stream as the direct path does.
    const read = super.read();
    if (!this.iterating) return read;
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
class ObservedStream extends ReadableStream<Uint8Array> {
  readonly #source: BodySource;

  constructor(source: BodySource) {
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
