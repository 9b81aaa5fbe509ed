import { type PlannedPiece, planReplay } from './plan.js';
import type { ReplayInternal, ReplayStreamOptions } from './types.js';

/** Reads the clock at call time, so fake timers installed after import are honoured. */
function defaultNow(): number {
  return performance.now();
}

/** A setTimeout-based delay that clears its timer when `signal` aborts. */
function defaultDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The time functions in force: injected ones, else the (possibly faked) globals. */
export function resolveClock(internal: ReplayInternal | undefined): Required<ReplayInternal> {
  return { now: internal?.now ?? defaultNow, delay: internal?.delay ?? defaultDelay };
}

/**
 * What undici throws when a server drops the connection mid-body (`TypeError: terminated`),
 * with a cause that says it was a tapedeck fault and where.
 */
function connectionDropped(tapeId: string, byteOffset: number): TypeError {
  const cause = Object.assign(
    new Error(`other side closed ([tapedeck] cut fault on tape ${tapeId} at byte ${byteOffset})`),
    { code: 'UND_ERR_SOCKET', name: 'SocketError', tapeId, byteOffset },
  );
  return new TypeError('terminated', { cause });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Streams a tape's bytes as a `ReadableStream`, chunked, paced and faulted per the options.
 *
 * Chunks are released from `pull`, each at `start + atMs` on the monotonic clock, so a slow
 * reader never makes later chunks late (delays do not accumulate). Cancelling the stream or
 * aborting `signal` clears the pending timer at once. The stream's `tee()` lets the first
 * branch (the one the client reads) cancel the source without waiting for the second, which
 * is how MSW's clone for its `response` event would otherwise hang an early cancel.
 */
export function createReplayStream({
  tape,
  timing,
  chunking,
  faults,
  signal,
  _internal,
}: ReplayStreamOptions): ReadableStream<Uint8Array> {
  const plan = planReplay({ tape, timing, chunking, faults });
  const { now, delay } = resolveClock(_internal);
  const stop = new AbortController();
  // The clock starts when the client first reads, so MSW's own set-up time does not bunch up
  // the first chunks.
  let startMs: number | undefined;
  let index = 0;
  let finished = false;
  let pulling: Promise<void> | undefined;
  let ending: { error: unknown } | 'closed' | undefined;

  // Every stream handed out (the body and the branches of its tees) is a sink fed straight from
  // this source: no stream-to-stream hop per chunk. The owner branch is the one the client reads.
  interface Sink {
    controller: ReadableStreamDefaultController<Uint8Array>;
    owner: boolean;
  }
  const sinks = new Set<Sink>();

  const finish = () => {
    finished = true;
    signal?.removeEventListener('abort', onAbort);
    if (!stop.signal.aborted) stop.abort();
  };
  const end = (how: { error: unknown } | 'closed') => {
    ending ??= how;
    for (const sink of sinks) {
      try {
        if (how === 'closed') sink.controller.close();
        else sink.controller.error(how.error);
      } catch {
        // Already closed or errored.
      }
    }
    sinks.clear();
  };
  const onAbort = () => {
    if (finished) return;
    finish();
    end({ error: abortReason(signal!) });
  };

  // One private copy per replay, so a client that writes into its chunks cannot change the tape
  // for the next replay; chunks are views of it (one copy instead of one per chunk).
  let raw: Uint8Array | undefined;
  const send = (piece: PlannedPiece) => {
    raw ??= tape.raw.slice();
    const bytes = piece.bytes ?? raw.subarray(piece.start, piece.end);
    index += 1;
    for (const sink of sinks) sink.controller.enqueue(bytes);
    if (index >= plan.pieces.length) release();
  };
  const release = () => {
    finish();
    end(
      plan.end === 'cut'
        ? { error: connectionDropped(tape.spanId, plan.cutAtByte ?? 0) }
        : 'closed',
    );
  };

  const pull = (): Promise<void> | undefined => {
    if (finished) return undefined;
    if (pulling) return pulling;
    const piece = plan.pieces[index];
    if (!piece) return undefined;
    // Instant pieces skip the clock entirely: this is the hot path for most test suites.
    startMs ??= now();
    if (piece.atMs > 0) {
      const waitMs = startMs + piece.atMs - now();
      if (waitMs > 0) {
        pulling = delay(waitMs, stop.signal).then(() => {
          pulling = undefined;
          if (!finished) send(piece);
        });
        return pulling;
      }
    }
    send(piece);
    return undefined;
  };

  const createSink = (owner: boolean): ReadableStream<Uint8Array> => {
    let sink: Sink | undefined;
    const stream = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          if (ending === 'closed') controller.close();
          else if (ending) controller.error(ending.error);
          else {
            sink = { controller, owner };
            sinks.add(sink);
          }
        },
        pull,
        cancel() {
          if (sink) sinks.delete(sink);
          // The client's branch owns the replay: its cancel ends everything at once, without
          // waiting for a clone nobody reads (MSW's tee would).
          if (owner || sinks.size === 0) {
            finish();
            end('closed');
          }
        },
      },
      { highWaterMark: 0 },
    );
    Object.defineProperty(stream, 'tee', {
      configurable: true,
      writable: true,
      value: (): [ReadableStream<Uint8Array>, ReadableStream<Uint8Array>] => {
        if (stream.locked) throw new TypeError('ReadableStream is locked');
        stream.getReader();
        if (sink) sinks.delete(sink);
        return [createSink(owner), createSink(false)];
      },
    });
    return stream;
  };

  const body = createSink(true);
  if (signal?.aborted) onAbort();
  else if (!finished) signal?.addEventListener('abort', onAbort, { once: true });
  if (plan.pieces.length === 0 && !finished) release();
  return body;
}

/**
 * Replaces `stream.tee()` (which undici's `Response.clone()` calls) with one whose first
 * branch owns the source: cancelling it cancels the source at once and closes the second
 * branch; cancelling the second branch only detaches it. Both branches get the same override,
 * so clones of clones behave the same.
 */
export function withPromptCancelTee<T>(stream: ReadableStream<T>): ReadableStream<T> {
  Object.defineProperty(stream, 'tee', {
    configurable: true,
    writable: true,
    value: (): [ReadableStream<T>, ReadableStream<T>] => {
      const reader = stream.getReader();
      let primary: ReadableStreamDefaultController<T> | undefined;
      let secondary: ReadableStreamDefaultController<T> | undefined;
      let primaryOpen = true;
      let secondaryOpen = true;
      let done = false;
      let reading: Promise<void> | undefined;

      const readOnce = (): Promise<void> => {
        if (done) return Promise.resolve();
        reading ??= reader.read().then(
          (result) => {
            reading = undefined;
            if (result.done) {
              done = true;
              if (primaryOpen) primary?.close();
              if (secondaryOpen) secondary?.close();
              return;
            }
            if (primaryOpen) primary?.enqueue(result.value);
            if (secondaryOpen) secondary?.enqueue(result.value);
          },
          (error: unknown) => {
            reading = undefined;
            done = true;
            if (primaryOpen) primary?.error(error);
            if (secondaryOpen) secondary?.error(error);
          },
        );
        return reading;
      };

      const first = new ReadableStream<T>(
        {
          start(controller) {
            primary = controller;
          },
          pull: readOnce,
          cancel(reason) {
            primaryOpen = false;
            if (secondaryOpen && !done) {
              secondaryOpen = false;
              try {
                secondary?.close();
              } catch {
                // Already closed.
              }
            }
            done = true;
            return reader.cancel(reason);
          },
        },
        { highWaterMark: 0 },
      );
      const second = new ReadableStream<T>(
        {
          start(controller) {
            secondary = controller;
          },
          pull: readOnce,
          cancel() {
            secondaryOpen = false;
            if (!primaryOpen) {
              done = true;
              return reader.cancel();
            }
          },
        },
        { highWaterMark: 0 },
      );
      return [withPromptCancelTee(first), withPromptCancelTee(second)];
    },
  });
  return stream;
}

/**
 * A one-chunk body with the same prompt-cancel `tee()`: a client that cancels an error body
 * (as SDKs do before retrying) must not wait for MSW's unread clone.
 */
export function createBytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return withPromptCancelTee(
    new ReadableStream<Uint8Array>({
      start(controller) {
        if (bytes.length > 0) controller.enqueue(bytes);
        controller.close();
      },
    }),
  );
}
