import type { ClientRequest } from 'node:http';
import { BatchInterceptor, getRawRequest } from '@mswjs/interceptors';
import { ClientRequestInterceptor } from '@mswjs/interceptors/ClientRequest';
import { FetchInterceptor } from '@mswjs/interceptors/fetch';
import type { TapedeckErrorCode, TapeHead, TapeOutcome, TapeStore } from '@tapedeck/types';
import { detectFamily, observeStream, requestHash, TapedeckError } from '@tapedeck/types';
import { tickMethodsOf } from './internal.js';
import { TAPE_SPAN_ATTRIBUTE, type TapeKeys, tapeKeys } from './keys.js';
import { type RedactOptions, redactHeaders, redactRequest } from './redact.js';
import { type SessionHost, TapeSession } from './tape-session.js';
import { Tick } from './tick-batch.js';

/** The recorder's flush timer (tests inject one through `_internal.setInterval`). */
interface FlushTimer {
  stop(): void;
  /** Whether the timer keeps the process alive (by default it does not). */
  keepAlive?(keep: boolean): void;
}

/** Options for {@link createRecorder}. */
export interface RecorderOptions {
  /** Where tapes go. The recorder never closes it. */
  store: TapeStore;
  /** Return false to leave a request unrecorded. Runs before the request is sent. */
  filter?: (request: Request) => boolean;
  /** Fraction of eligible streams to record, 0..1 (default 1). */
  sampleRate?: number;
  /** What to redact beyond the defaults (credential headers, query parameters, URL passwords). */
  redact?: RedactOptions;
  /**
   * Sees each tape's head (request and response, already redacted) before anything is written:
   * return a changed head, nothing to keep it, or `false` to drop the recording.
   */
  beforePersist?: (tape: TapeHead) => TapeHead | undefined | false;
  /** Receives every recorder failure (a TapedeckError with code STORE_FAILURE or RECORDER_FAILURE). */
  onError?: (error: TapedeckError) => void;
  /**
   * How often buffered chunks and events are written (default 100 ms). With the SQLite store the
   * outcomes of streams that ended go with them (call `flush()` before reading a tape that just
   * ended while others still record), and when the last stream being recorded ends, everything
   * is written at once; other stores are told a stream's outcome when it ends.
   */
  flushIntervalMs?: number;
  /** Bytes recorded per tape at most (default 64 MiB); the stream itself is never cut. */
  maxTapeBytes?: number;
  /**
   * Bytes the recorder may hold across all its streams that the store has not written yet
   * (default 64 MiB): what bounds its memory when the store falls behind (a slow disk, a busy
   * writer thread). A chunk that would go beyond it is still handed to the consumer unchanged,
   * but its tape records nothing more: it ends `incomplete` with what it had, the error says
   * where it stopped, `onError` is told and `stats().dropped` counts it. The consumer is never
   * blocked or delayed. With the SQLite store, gathered bytes go to it before the flush interval
   * once they reach a quarter of this (16 MiB at most).
   */
  maxBufferedBytes?: number;
  /** For tests: the clock (epoch ms), the flush timer and the sampling dice. */
  _internal?: {
    now?: () => number;
    setInterval?: (callback: () => void, intervalMs: number) => FlushTimer;
    random?: () => number;
  };
}

/** Counters since the recorder was created. */
export interface RecorderStats {
  /** Streams being recorded now. */
  recording: number;
  /** Streams whose recording ended, by outcome. */
  recorded: number;
  byOutcome: Partial<Record<TapeOutcome, number>>;
  /** Requests passed over by `filter`, `sampleRate` or `beforePersist`. */
  skipped: number;
  /** Bytes and events captured. */
  bytes: number;
  events: number;
  /** Failures reported to `onError`. */
  errors: number;
  /** Tapes that stopped recording because `maxBufferedBytes` was reached. */
  dropped: number;
}

/** A recorder: see {@link createRecorder}. */
export interface Recorder {
  /** `fetch`, recorded. */
  fetch: typeof fetch;
  /** Returns a `fetch` that records through this recorder and calls `fetchImpl` for the network. */
  wrap(fetchImpl: typeof fetch): typeof fetch;
  /** Records every `fetch` and `node:http(s)` request in the process until {@link uninstall}. */
  install(): void;
  uninstall(): void;
  /** Writes everything buffered and waits until the store has it. */
  flush(): Promise<void>;
  stats(): RecorderStats;
  /** Uninstalls, ends recordings still open as `incomplete`, and flushes. Streams are untouched. */
  close(): Promise<void>;
}

interface Decision {
  startedAt: number;
  keys: TapeKeys;
  request: { method: string; url: string; headers: Headers; body: string | null };
  askedForStream: boolean;
  /** The body parsed as a JSON object once something needed it; null when it is not one. */
  json?: Record<string, unknown> | null;
}

// Requests this module sends itself, so an installed interceptor (or a nested wrap) lets them
// pass. A WeakSet rather than AsyncLocalStorage: that would turn on promise hooks process-wide.
const ownRequests = new WeakSet<Request>();
/** How many recorders have interceptors installed in this process. */
let installedInterceptors = 0;

function headersToRecord(headers: Headers): Record<string, string> {
  const result: Record<string, string> = {};
  headers.forEach((value, name) => {
    result[name] = value;
  });
  return result;
}

function isEventStream(headers: Headers): boolean {
  return /^\s*text\/event-stream/i.test(headers.get('content-type') ?? '');
}

/**
 * The request body as a JSON object, parsed at most once per request (the stream flag, the
 * model, the family and the request hash all read it).
 */
function bodyJson(decision: Decision): Record<string, unknown> | undefined {
  if (decision.json === undefined) {
    decision.json = null;
    const { body } = decision.request;
    if (body !== null) {
      try {
        const parsed: unknown = JSON.parse(body);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
          decision.json = parsed as Record<string, unknown>;
        }
      } catch {}
    }
  }
  return decision.json ?? undefined;
}

function asksForStream(decision: Decision): boolean {
  if (/text\/event-stream/i.test(decision.request.headers.get('accept') ?? '')) return true;
  // Most bodies never mention it: they are not parsed here.
  if (!decision.request.body?.includes('"stream"')) return false;
  return bodyJson(decision)?.stream === true;
}

/**
 * The body as `request.clone().text()` would read it, without the clone, when the caller passed
 * a string that survives UTF-8 encoding and decoding unchanged (no surrogates, no leading BOM);
 * otherwise undefined and the clone is read.
 */
function plainStringBody(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  if (body.charCodeAt(0) === 0xfeff || /[\uD800-\uDFFF]/.test(body)) return undefined;
  return body;
}

/** What a request says about itself, as far as the recorder reads it. */
interface Outgoing {
  method: string;
  url: string;
  headers: Headers;
}

/** `DELETE`, `GET`, `HEAD`, `OPTIONS`, `POST` and `PUT` in any case are upper-cased (Fetch spec). */
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);

/**
 * The method, URL and headers `new Request(input, init)` would have, for an absolute URL and a
 * string body or none: the URL as WHATWG parses it, the method normalized, and the content type
 * a string body is sent with when none is given. Undefined when only a Request can tell (a
 * relative URL, a bad header): the caller builds one.
 */
function describeOutgoing(
  input: string | URL,
  init: RequestInit | undefined,
): Outgoing | undefined {
  try {
    const url = new URL(input).href;
    const given = init?.method ?? 'GET';
    const upper = given.toUpperCase();
    const headers = new Headers(init?.headers);
    if (typeof init?.body === 'string' && !headers.has('content-type')) {
      headers.set('content-type', 'text/plain;charset=UTF-8');
    }
    return { method: NORMALIZED_METHODS.has(upper) ? upper : given, url, headers };
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/**
 * Creates a recorder that tees live SSE streams into `store`. It records responses whose
 * content type is `text/event-stream`, and non-2xx responses of requests that asked for a
 * stream (`Accept: text/event-stream` or a JSON body with `"stream": true`). The consumer gets
 * the upstream bytes unchanged, chunk for chunk: each chunk is handed on first, then copied;
 * parsing and writes happen every `flushIntervalMs`. Failures go to `onError` and `stats()`,
 * never into the consumer's stream.
 *
 * @example
 * ```ts
 * const recorder = createRecorder({ store: createSqliteStore({ path: 'tapes.sqlite' }) });
 * recorder.install(); // real SDKs are now recorded unchanged
 * ```
 */
export function createRecorder({
  store,
  filter,
  sampleRate = 1,
  redact = {},
  beforePersist,
  onError,
  flushIntervalMs = 100,
  maxTapeBytes = 64 * 1024 * 1024,
  maxBufferedBytes = 64 * 1024 * 1024,
  _internal = {},
}: RecorderOptions): Recorder {
  if (!store || typeof store.put !== 'function') {
    throw new TapedeckError({
      code: 'INVALID_ARGUMENT',
      message:
        'createRecorder: `store` must be a TapeStore (createSqliteStore or createMemoryStore)',
    });
  }
  const now = _internal.now ?? (() => performance.timeOrigin + performance.now());
  const random = _internal.random ?? Math.random;
  const startTimer =
    _internal.setInterval ??
    ((callback: () => void, intervalMs: number) => {
      const timer = setInterval(callback, intervalMs);
      timer.unref();
      return {
        stop: () => clearInterval(timer),
        keepAlive: (keep) => (keep ? timer.ref() : timer.unref()),
      };
    });

  const active = new Set<TapeSession>();
  const settling = new Set<Promise<void>>();
  const usedSpanIds = new Set<string>();
  const counters: RecorderStats = {
    recording: 0,
    recorded: 0,
    byOutcome: {},
    skipped: 0,
    bytes: 0,
    events: 0,
    errors: 0,
    dropped: 0,
  };
  let timer: FlushTimer | undefined;
  let closed = false;
  let earlyFlush: Set<TapeSession> | undefined;

  const report = (
    code: TapedeckErrorCode,
    message: string,
    cause: unknown,
    context: Record<string, unknown>,
  ) => {
    counters.errors += 1;
    if (!onError) return;
    try {
      onError(new TapedeckError({ code, message: `recorder: ${message}`, cause, context }));
    } catch {
      // A throwing onError must not reach the stream either.
    }
  };

  // Ticks only with a store that has all three tick methods (see internal.ts).
  const tickStore = tickMethodsOf(store);
  const tick = tickStore
    ? new Tick({
        appendTick: tickStore.appendTick,
        maxBufferedBytes,
        written: (bytes) => host.written(bytes),
        onError: (error, tape) =>
          report('RECORDER_FAILURE', `recording failed: ${describe(error)}`, error, {
            tapeId: tape.spanId,
          }),
      })
    : undefined;

  /** Every session parses what it holds and queues its writes; the tick goes to the store. */
  const flushActive = () => {
    for (const session of active) session.flush();
    const sent = tick?.submit();
    timer?.keepAlive?.(false);
    return sent;
  };

  const host: SessionHost = {
    store,
    now,
    maxTapeBytes,
    maxBufferedBytes,
    heldBytes: 0,
    written(bytes) {
      host.heldBytes -= bytes;
    },
    onDropped() {
      counters.dropped += 1;
    },
    ...(tick && tickStore ? { tick, tickStore } : {}),
    report,
    requestEarlyFlush(session) {
      if (earlyFlush) {
        earlyFlush.add(session);
        return;
      }
      earlyFlush = new Set([session]);
      setImmediate(() => {
        const sessions = earlyFlush ?? new Set<TapeSession>();
        earlyFlush = undefined;
        for (const each of sessions) each.flush();
      });
    },
    onEnded(session, outcome) {
      active.delete(session);
      counters.recorded += 1;
      counters.byOutcome[outcome] = (counters.byOutcome[outcome] ?? 0) + 1;
      counters.bytes += session.bytes;
      const settled = session.chain.then(() => {
        // Counted once written: with the SQLite store the writer thread finds the events.
        counters.events += session.events;
        settling.delete(settled);
      });
      settling.add(settled);
      if (active.size === 0 && timer) {
        timer.stop();
        timer = undefined;
        // The finishes waiting for the next tick (see TapeSession.end) need no timer to go.
        void tick?.submit();
      } else if (tick?.waiting) {
        // A finished stream's last bytes and outcome wait for the next tick: the process may not
        // exit before it goes, as it could while only streams still open hold the timer.
        timer?.keepAlive?.(true);
      }
    },
  };

  /**
   * Decides, before the request is sent, whether it may be recorded. `bodyText` is the body
   * when the caller passed it as a string: reading a clone of the request costs two more
   * streams per request.
   */
  const decide = async (
    request: Request | Outgoing,
    bodyText?: string,
  ): Promise<Decision | undefined> => {
    if (closed) return undefined;
    try {
      // Without a Request there is no filter (see recordedFetch).
      if (filter && request instanceof Request && !filter(request)) {
        counters.skipped += 1;
        return undefined;
      }
      if (sampleRate < 1 && random() >= sampleRate) {
        counters.skipped += 1;
        return undefined;
      }
      const startedAt = now();
      const keys = tapeKeys(usedSpanIds);
      const body =
        bodyText !== undefined
          ? bodyText
          : request instanceof Request && request.body
            ? await request.clone().text()
            : null;
      const decision: Decision = {
        startedAt,
        keys,
        request: { method: request.method, url: request.url, headers: request.headers, body },
        askedForStream: false,
      };
      decision.askedForStream = asksForStream(decision);
      return decision;
    } catch (error) {
      report(
        'RECORDER_FAILURE',
        `could not inspect ${request.method} ${request.url}: ${describe(error)}`,
        error,
        {},
      );
      return undefined;
    }
  };

  /** Starts a session for a response worth recording, or returns undefined. */
  const start = (
    decision: Decision,
    response: { status: number; statusText: string; headers: Headers },
  ): TapeSession | undefined => {
    if (closed) return undefined;
    const ok = response.status >= 200 && response.status < 300;
    if (!isEventStream(response.headers) && (ok || !decision.askedForStream)) return undefined;
    try {
      const { method, url, headers, body } = decision.request;
      const redacted = redactRequest(
        { method, url, headers: headersToRecord(headers), body },
        redact,
      );
      const json = bodyJson(decision);
      const model = typeof json?.model === 'string' ? json.model : undefined;
      let head: TapeHead = {
        schemaVersion: 1,
        spanId: decision.keys.spanId,
        traceId: decision.keys.traceId,
        family: detectFamily({ url, method, body: json ?? body }),
        request: redacted,
        requestHash: requestHash({
          method: redacted.method,
          url: redacted.url,
          // The parsed object hashes as its text would (a JSON object's text is canonicalised);
          // redaction that changed the body means the new text counts.
          body: json && redacted.body === body ? json : redacted.body,
        }),
        response: {
          status: response.status,
          statusText: response.statusText,
          headers: redactHeaders(headersToRecord(response.headers)),
        },
        startedAt: decision.startedAt,
        ...(model ? { model } : {}),
      };
      if (beforePersist) {
        const changed = beforePersist(head);
        if (changed === false) {
          counters.skipped += 1;
          return undefined;
        }
        if (changed) head = changed;
      }
      const session = new TapeSession(head, host);
      usedSpanIds.add(head.spanId);
      if (usedSpanIds.size > 10_000)
        usedSpanIds.delete(usedSpanIds.values().next().value as string);
      try {
        decision.keys.span?.setAttribute(TAPE_SPAN_ATTRIBUTE, head.spanId);
      } catch {}
      active.add(session);
      timer ??= startTimer(flushActive, flushIntervalMs);
      if (!ok) {
        // An error body is short and its status is the outcome; keep it with its bytes.
        session.flush();
      }
      return session;
    } catch (error) {
      report(
        'RECORDER_FAILURE',
        `could not start a tape for ${decision.request.url}: ${describe(error)}`,
        error,
        {
          tapeId: decision.keys.spanId,
        },
      );
      return undefined;
    }
  };

  const finalOutcome = (status: number): TapeOutcome =>
    status >= 200 && status < 300 ? 'complete' : 'http-error';

  const safely = (session: TapeSession, action: () => void) => {
    try {
      action();
    } catch (error) {
      report('RECORDER_FAILURE', `recording failed: ${describe(error)}`, error, {
        tapeId: session.spanId,
      });
    }
  };

  /**
   * Returns a Response whose body hands each upstream chunk to the consumer and shows it to the
   * session on its way (`observeStream`: the consumer's own reader reads the upstream body
   * directly). Backpressure is the consumer's: nothing is read before it asks.
   */
  const tee = (
    session: TapeSession,
    response: Response,
    signal: AbortSignal | undefined,
  ): Response => {
    const status = response.status;
    const httpError =
      status < 200 || status >= 300 ? `HTTP ${status} ${response.statusText}`.trim() : undefined;
    const body = observeStream(response.body as ReadableStream<Uint8Array>, {
      onChunk(chunk) {
        try {
          session.onChunk(chunk);
        } catch (error) {
          report('RECORDER_FAILURE', `recording failed: ${describe(error)}`, error, {
            tapeId: session.spanId,
          });
        }
      },
      onEnd() {
        safely(session, () => session.end(finalOutcome(status), httpError));
      },
      onError(error) {
        const aborted = signal?.aborted === true;
        safely(session, () =>
          session.end(
            aborted ? 'aborted' : 'upstream-error',
            describe(aborted ? (signal?.reason ?? error) : error),
          ),
        );
      },
      onCancel(reason) {
        safely(session, () =>
          session.endsWithDoneSentinel()
            ? session.end('complete')
            : session.end(
                'aborted',
                `the consumer cancelled the stream${reason === undefined ? '' : `: ${describe(reason)}`}`,
              ),
        );
      },
    });
    const wrapped = new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    for (const property of ['url', 'redirected', 'type'] as const) {
      Object.defineProperty(wrapped, property, { value: response[property] });
    }
    return wrapped;
  };

  /** Records `response` when it should be; otherwise returns it untouched. */
  const recordFetchResponse = (
    decision: Decision | undefined,
    response: Response,
    signal: AbortSignal | undefined,
  ): Response => {
    if (!decision) return response;
    const session = start(decision, response);
    if (!session) return response;
    if (!response.body) {
      safely(session, () =>
        session.end(
          finalOutcome(response.status),
          response.ok ? undefined : `HTTP ${response.status}`,
        ),
      );
      return response;
    }
    try {
      return tee(session, response, signal);
    } catch (error) {
      report('RECORDER_FAILURE', `could not tee the response: ${describe(error)}`, error, {
        tapeId: session.spanId,
      });
      safely(session, () => session.end('incomplete', 'the recorder could not read this stream'));
      return response;
    }
  };

  const wrap = (fetchImpl: typeof fetch): typeof fetch =>
    async function recordedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      if (closed || (input instanceof Request && ownRequests.has(input))) {
        return fetchImpl(input, init);
      }
      // The caller's own arguments go on when they can be sent again (no body, or a string):
      // fetch given a Request copies it, piping its body through a second stream (about 65 µs
      // a request). An installed interceptor must see the marked Request instead.
      const body = init?.body;
      const resendable =
        installedInterceptors === 0 &&
        !(input instanceof Request) &&
        (body === undefined || body === null || typeof body === 'string');
      if (resendable && !filter) {
        // Nothing needs a Request either: what it would say is read off the arguments.
        const bodyText = typeof body === 'string' ? plainStringBody(body) : undefined;
        const outgoing =
          typeof body === 'string' && bodyText === undefined
            ? undefined
            : describeOutgoing(input, init);
        if (outgoing) {
          const decision = await decide(outgoing, bodyText);
          return recordFetchResponse(
            decision,
            await fetchImpl(input, init),
            init?.signal ?? undefined,
          );
        }
      }
      let request: Request;
      try {
        request = new Request(input, init);
      } catch {
        // Let fetch itself report what is wrong with the arguments.
        return fetchImpl(input, init);
      }
      const bodyText =
        !(input instanceof Request) && request.body ? plainStringBody(init?.body) : undefined;
      const decision = await decide(request, bodyText);
      if (resendable) {
        return recordFetchResponse(decision, await fetchImpl(input, init), request.signal);
      }
      ownRequests.add(request);
      const response = await fetchImpl(request);
      return recordFetchResponse(decision, response, request.signal);
    };

  // node:http(s): the interceptor parses the upstream response beside the consumer's own
  // parser, so reading it never touches what the consumer receives.
  const recordClientRequest = (decision: Decision, request: Request, response: Response) => {
    const session = start(decision, response);
    if (!session) {
      response.body?.cancel().catch(() => {});
      return;
    }
    const status = response.status;
    const httpError = response.ok ? undefined : `HTTP ${status} ${response.statusText}`.trim();
    if (!response.body) {
      safely(session, () => session.end(finalOutcome(status), httpError));
      return;
    }
    const reader = response.body.getReader();
    const raw = getRawRequest(request) as ClientRequest | undefined;
    let upstreamTrouble = false;
    const socket = raw?.socket;
    socket?.once('error', () => {
      upstreamTrouble = true;
    });
    socket?.once('end', () => {
      upstreamTrouble = true;
    });
    raw?.once('close', () => {
      // A stream that ended normally has delivered its end to our reader by now.
      setImmediate(() => {
        if (session.ended) return;
        safely(session, () =>
          session.end(
            upstreamTrouble ? 'upstream-error' : 'aborted',
            upstreamTrouble
              ? 'the upstream connection closed mid-stream'
              : 'the consumer destroyed the request',
          ),
        );
        reader.cancel().catch(() => {});
      });
    });
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          session.onChunk(value);
        }
        safely(session, () => session.end(finalOutcome(status), httpError));
      } catch (error) {
        safely(session, () => session.end('upstream-error', describe(error)));
      }
    })();
  };

  let interceptor: BatchInterceptor<[ClientRequestInterceptor, FetchInterceptor]> | undefined;

  const install = () => {
    if (interceptor) return;
    if (closed) {
      throw new TapedeckError({
        code: 'INVALID_ARGUMENT',
        message: 'recorder.install: the recorder is closed',
      });
    }
    const clientRequest = new ClientRequestInterceptor();
    const fetchInterceptor = new FetchInterceptor();
    const pureFetch = globalThis.fetch;
    const pendingClientRequests = new Map<string, Promise<Decision | undefined>>();

    fetchInterceptor.on('request', async ({ request, controller }) => {
      const raw = getRawRequest(request);
      if (raw instanceof Request && ownRequests.has(raw)) return;
      const decision = await decide(request);
      // Only requests that ask for a stream are taken over; everything else passes through.
      if (!decision?.askedForStream) return;
      let response: Response;
      try {
        response = await pureFetch(request);
      } catch (error) {
        controller.errorWith(error as Error);
        return;
      }
      let recorded = recordFetchResponse(decision, response, request.signal);
      if (recorded.headers.has('content-encoding')) {
        // fetch already decoded the body; the interceptor would decode it again.
        const headers = new Headers(recorded.headers);
        headers.delete('content-encoding');
        headers.delete('content-length');
        recorded = new Response(recorded.body, {
          status: recorded.status,
          statusText: recorded.statusText,
          headers,
        });
      }
      controller.respondWith(recorded);
    });

    clientRequest.on('request', ({ request, requestId }) => {
      pendingClientRequests.set(requestId, decide(request));
      (getRawRequest(request) as ClientRequest | undefined)?.once?.('close', () =>
        pendingClientRequests.delete(requestId),
      );
    });
    clientRequest.on('response', ({ request, requestId, response, isMockedResponse }) => {
      const pending = pendingClientRequests.get(requestId);
      pendingClientRequests.delete(requestId);
      if (!pending || isMockedResponse) return;
      const ok = response.status >= 200 && response.status < 300;
      if (ok && !isEventStream(response.headers)) {
        response.body?.cancel().catch(() => {});
        return;
      }
      // Return at once: the interceptor holds the consumer's socket events until we do.
      void pending.then((decision) => {
        if (decision) recordClientRequest(decision, request, response);
        else response.body?.cancel().catch(() => {});
      });
    });

    interceptor = new BatchInterceptor({
      name: 'tapedeck-recorder',
      interceptors: [clientRequest, fetchInterceptor],
    });
    interceptor.apply();
    installedInterceptors += 1;
  };

  const uninstall = () => {
    if (!interceptor) return;
    interceptor.dispose();
    interceptor = undefined;
    installedInterceptors -= 1;
  };

  const flush = async () => {
    await flushActive();
    await Promise.all([...active].map((session) => session.chain));
    await Promise.all([...settling]);
  };

  return {
    fetch: wrap((input, init) => globalThis.fetch(input, init)),
    wrap,
    install,
    uninstall,
    flush,
    stats: () => ({ ...counters, byOutcome: { ...counters.byOutcome }, recording: active.size }),
    async close() {
      uninstall();
      closed = true;
      for (const session of [...active]) {
        safely(session, () => session.end('incomplete', 'the recorder was closed mid-stream'));
      }
      await flush();
      timer?.stop();
      timer = undefined;
    },
  };
}
