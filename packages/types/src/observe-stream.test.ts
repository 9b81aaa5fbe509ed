import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { observeStream, type StreamObserver } from './observe-stream.js';

// The observer must see exactly what the consumer gets, once, in order, whichever way the
// stream is read: its own readers (direct), the platform's paths (pipes, tee, readers of the
// platform's class), and any mix with released and concurrent reads.

const encoder = new TextEncoder();
const chunks = Array.from({ length: 12 }, (_, index) => encoder.encode(`data: ${index}\n\n`));

function bodyOf(parts: Uint8Array[], failAfter?: number): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (failAfter !== undefined && index === failAfter) {
          controller.error(new Error('socket hang up'));
          return;
        }
        const part = parts[index++];
        if (part === undefined) controller.close();
        else controller.enqueue(part);
      },
    },
    { highWaterMark: 0 },
  );
}

function recording() {
  const seen: Uint8Array[] = [];
  const calls: string[] = [];
  // A counter of its own: a read asked for is not a call in order with the others.
  const reads = { count: 0 };
  const observer: StreamObserver = {
    onRead: () => {
      reads.count += 1;
    },
    onChunk: (chunk) => {
      seen.push(chunk);
    },
    onEnd: () => calls.push('end'),
    onError: (error) => calls.push(`error: ${(error as Error).message}`),
    onCancel: (reason) => calls.push(`cancel: ${String(reason)}`),
  };
  return { seen, calls, reads, observer };
}

const valuesOf = (stream: ReadableStream<Uint8Array>, options: { preventCancel?: boolean }) =>
  (
    stream as unknown as {
      values(options: { preventCancel?: boolean }): AsyncIterableIterator<Uint8Array>;
    }
  ).values(options);

describe('observeStream', () => {
  it('hands the body’s own chunks on and shows each to the observer once, then the end', async () => {
    const { seen, calls, reads, observer } = recording();
    const stream = observeStream(bodyOf(chunks), observer);
    const reader = stream.getReader();
    const got: Uint8Array[] = [];
    for (let result = await reader.read(); !result.done; result = await reader.read()) {
      got.push(result.value);
    }
    expect(got).toEqual(chunks);
    for (const [index, chunk] of got.entries()) expect(chunk).toBe(chunks[index]);
    expect(seen).toEqual(chunks);
    expect(calls).toEqual(['end']);
    // One read of the body per chunk and one for the end; the first goes through the stream.
    expect(reads.count).toBe(chunks.length + 1);
    await expect(reader.closed).resolves.toBeUndefined();
  });

  it('a cancel reaches the observer and the body, and ends nothing else', async () => {
    const { calls, observer } = recording();
    let cancelled: unknown;
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(chunks[0]!),
      cancel: (reason) => {
        cancelled = reason;
      },
    });
    const reader = observeStream(body, observer).getReader();
    await reader.read();
    await reader.read();
    await reader.cancel('enough');
    expect(cancelled).toBe('enough');
    expect(calls).toEqual(['cancel: enough']);
  });

  it('a failing body: the reader gets its error, the observer hears of it once', async () => {
    const { seen, calls, observer } = recording();
    const reader = observeStream(bodyOf(chunks, 3), observer).getReader();
    for (let read = 0; read < 3; read += 1) await reader.read();
    await expect(reader.read()).rejects.toThrow('socket hang up');
    await expect(reader.closed).rejects.toThrow('socket hang up');
    expect(seen).toHaveLength(3);
    expect(calls).toEqual(['error: socket hang up']);
  });

  it('inside a Response: text(), clone() and bodyUsed are the platform’s', async () => {
    const { seen, reads, observer } = recording();
    const response = new Response(observeStream(bodyOf(chunks), observer));
    const copy = response.clone();
    const text = chunks.map((chunk) => new TextDecoder().decode(chunk)).join('');
    expect(await response.text()).toBe(text);
    expect(await copy.text()).toBe(text);
    expect(response.bodyUsed).toBe(true);
    expect(seen).toEqual(chunks);
    // Every read here goes through the stream (the pull-through path).
    expect(reads.count).toBe(chunks.length + 1);
  });

  it('its own reader hands on the body reader’s own results; a read through the stream does not', async () => {
    // The body's reader keeps each result it gives: a direct read resolves with that very
    // object, a read through the stream with one the stream makes.
    const given: Array<ReadableStreamReadResult<Uint8Array>> = [];
    const watched = () => {
      const body = bodyOf(chunks);
      const getReader = body.getReader.bind(body);
      body.getReader = (() => {
        const reader = getReader();
        const read = reader.read.bind(reader);
        reader.read = () =>
          read().then((result) => {
            given.push(result);
            return result;
          });
        return reader;
      }) as typeof body.getReader;
      return observeStream(body, recording().observer);
    };
    const direct = watched().getReader();
    // The first read of a stream always goes through it (that marks it disturbed).
    expect(await direct.read()).not.toBe(given.at(-1));
    expect(await direct.read()).toBe(given.at(-1));
    const platform = new ReadableStreamDefaultReader<Uint8Array>(watched());
    await platform.read();
    expect(await platform.read()).not.toBe(given.at(-1));
  });

  it('a reader after one direct read leaves the body used', async () => {
    const response = new Response(observeStream(bodyOf(chunks), recording().observer));
    const reader = response.body!.getReader();
    await reader.read();
    await reader.read();
    reader.releaseLock();
    expect(response.bodyUsed).toBe(true);
    await response.body!.cancel();
  });

  it('a BYOB reader is refused as on any stream of chunks, and leaves it unlocked', () => {
    const stream = observeStream(bodyOf(chunks), recording().observer);
    expect(() => stream.getReader({ mode: 'byob' })).toThrow(TypeError);
    expect(stream.locked).toBe(false);
  });

  it('a released reader’s read, a pull behind it, then a direct read: still in order', async () => {
    // A body that answers each read a macrotask later, as a socket does: reads overlap.
    let index = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          await new Promise((resolve) => setImmediate(resolve));
          const part = chunks[index++];
          if (part === undefined) controller.close();
          else controller.enqueue(part);
        },
      },
      { highWaterMark: 0 },
    );
    const { seen, observer } = recording();
    const stream = observeStream(body, observer);
    const got: Uint8Array[] = [];
    const first = stream.getReader();
    got.push((await first.read()).value as Uint8Array);
    // A direct read, left to a released reader: its chunk belongs to the next one.
    const orphaned = first.read();
    first.releaseLock();
    const second = stream.getReader();
    // This read waits for the released one's chunk; behind it, a pull asks the body for more.
    const next = second.read();
    await expect(orphaned).rejects.toBeInstanceOf(TypeError);
    got.push((await next).value as Uint8Array);
    // Asked while that pull still waits for the body: it must not overtake it.
    for (let result = await second.read(); !result.done; result = await second.read()) {
      got.push(result.value);
    }
    expect(got).toEqual(chunks);
    expect(seen).toEqual(chunks);
  });

  it('any mix of readers, releases, iterators and pipes: the observer sees what the consumer gets', async () => {
    type Step =
      | { kind: 'read' }
      | { kind: 'two reads' }
      | { kind: 'release while reading' }
      | { kind: 'platform reader released while reading' }
      | { kind: 'iterate'; count: number }
      | { kind: 'platform reader'; count: number };
    const step = fc.oneof(
      fc.constant<Step>({ kind: 'read' }),
      fc.constant<Step>({ kind: 'two reads' }),
      fc.constant<Step>({ kind: 'release while reading' }),
      fc.constant<Step>({ kind: 'platform reader released while reading' }),
      fc.integer({ min: 1, max: 4 }).map<Step>((count) => ({ kind: 'iterate', count })),
      fc.integer({ min: 1, max: 4 }).map<Step>((count) => ({ kind: 'platform reader', count })),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { maxLength: 12 }),
        fc.constantFrom('reader', 'pipe'),
        async (steps, finish) => {
          const { seen, calls, reads, observer } = recording();
          const stream = observeStream(bodyOf(chunks), observer);
          const got: Uint8Array[] = [];
          const take = (result: ReadableStreamReadResult<Uint8Array>) => {
            if (!result.done) got.push(result.value);
          };
          const released = (error: unknown) => expect(error).toBeInstanceOf(TypeError);
          let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
          for (const each of steps) {
            if (each.kind === 'read' || each.kind === 'two reads') {
              reader ??= stream.getReader();
              const reads = each.kind === 'read' ? [reader.read()] : [reader.read(), reader.read()];
              for (const result of await Promise.all(reads)) take(result);
              continue;
            }
            if (each.kind === 'release while reading') {
              reader ??= stream.getReader();
              const pending = reader.read();
              reader.releaseLock();
              reader = undefined;
              await pending.then(take, released);
              continue;
            }
            reader?.releaseLock();
            reader = undefined;
            if (each.kind === 'platform reader released while reading') {
              const platform = new ReadableStreamDefaultReader<Uint8Array>(stream);
              const pending = platform.read();
              platform.releaseLock();
              // The next step reads before the body has answered this read.
              pending.then(take, released);
            } else if (each.kind === 'iterate') {
              let left = each.count;
              for await (const chunk of valuesOf(stream, { preventCancel: true })) {
                got.push(chunk);
                if (--left === 0) break;
              }
            } else {
              const platform = new ReadableStreamDefaultReader<Uint8Array>(stream);
              for (let read = 0; read < each.count; read += 1) take(await platform.read());
              platform.releaseLock();
            }
          }
          reader?.releaseLock();
          if (finish === 'pipe') {
            await stream.pipeTo(new WritableStream({ write: (chunk) => void got.push(chunk) }));
          } else {
            for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>)
              got.push(chunk);
          }
          expect(got).toEqual(chunks);
          expect(seen).toEqual(chunks);
          expect(calls).toEqual(['end']);
          // One read per chunk and one for the end, but two reads asked at once of a body at
          // its end both go to it, and both are done.
          expect(reads.count).toBeGreaterThanOrEqual(chunks.length + 1);
          expect(reads.count).toBeLessThanOrEqual(chunks.length + 2);
          expect(stream.locked).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});
