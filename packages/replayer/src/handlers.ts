import { createRecorder, type Recorder } from '@tapedeck/recorder';
import { type Tape, TapedeckError, type TapeStore } from '@tapedeck/types';
import { bypass, http, passthrough, type RequestHandler } from 'msw';
import { createTapeMatcher, toMatchableRequest } from './matching.js';
import { resolveTiming } from './plan.js';
import { createBytesStream, createReplayStream, withPromptCancelTee } from './replay-stream.js';
import type {
  ReplayFault,
  ReplayFaults,
  ReplayMiss,
  ReplayMode,
  ReplayOptions,
  StatusFault,
} from './types.js';

const MODES: readonly ReplayMode[] = ['replay', 'record', 'auto', 'passthrough'];

/**
 * The mode in force: the explicit option, else `TAPEDECK_MODE`, else `'replay'`. Under `CI`
 * the environment cannot switch to `record` or `auto`, so a CI run never calls a real upstream
 * by accident (pass `mode` explicitly to override).
 */
export function resolveMode(
  mode: ReplayMode | undefined,
  environment: Record<string, string | undefined> = process.env,
): ReplayMode {
  const candidate = mode ?? environment.TAPEDECK_MODE;
  if (candidate === undefined || candidate === '') return 'replay';
  if (!MODES.includes(candidate as ReplayMode)) {
    throw new TapedeckError({
      code: 'INVALID_ARGUMENT',
      message: `mode ${JSON.stringify(candidate)}${mode === undefined ? ' (from TAPEDECK_MODE)' : ''} is not one of ${MODES.join(', ')}`,
    });
  }
  const ci = environment.CI;
  if (mode === undefined && ci && ci !== 'false' && ci !== '0') {
    if (candidate === 'record' || candidate === 'auto') return 'replay';
  }
  return candidate as ReplayMode;
}

/** Response headers that describe the recorded transfer, not the replayed one. */
const TRANSFER_HEADERS = new Set([
  'content-encoding',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
]);

const encoder = new TextEncoder();

function jsonBody(value: unknown): ReadableStream<Uint8Array> {
  return createBytesStream(encoder.encode(JSON.stringify(value)));
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

function statusResponse(tape: Tape, fault: StatusFault): Response {
  const retryAfterSeconds = fault.retryAfterSeconds ?? (fault.status === 429 ? 0 : undefined);
  const message =
    fault.message ??
    (fault.status === 429
      ? 'Rate limit exceeded (injected by tapedeck).'
      : `Upstream answered ${fault.status} (injected by tapedeck).`);
  const headers = new Headers({ 'content-type': 'application/json' });
  if (retryAfterSeconds !== undefined) headers.set('retry-after', String(retryAfterSeconds));
  const code = fault.status === 429 ? 'rate_limit_exceeded' : 'server_error';
  const body =
    tape.family === 'opper'
      ? { type: code, message, detail: message }
      : { error: { message, type: code, code: fault.status } };
  return new Response(jsonBody(body), { status: fault.status, headers });
}

function tapeResponse(
  tape: Tape,
  faults: ReplayFault[],
  request: Request,
  options: ReplayOptions,
): Response {
  const status = faults.find((fault): fault is StatusFault => fault.type === 'status');
  if (status) return statusResponse(tape, status);
  const headers = new Headers();
  for (const [name, value] of Object.entries(tape.response.headers)) {
    if (!TRANSFER_HEADERS.has(name.toLowerCase())) headers.set(name, value);
  }
  const init = {
    status: tape.response.status,
    statusText: tape.response.statusText,
    headers,
  };
  if (NULL_BODY_STATUSES.has(tape.response.status)) return new Response(null, init);
  const stream = createReplayStream({
    tape,
    timing: options.timing,
    chunking: options.chunking,
    faults,
    signal: request.signal,
    _internal: options._internal,
  });
  return new Response(stream, init);
}

function faultsFor(faults: ReplayFaults | undefined, attempt: number): ReplayFault[] {
  if (faults === undefined) return [];
  if (Array.isArray(faults)) return faults;
  if ('sequence' in faults) {
    const step = faults.sequence[attempt];
    if (step === undefined || step === 'ok') return [];
    return Array.isArray(step) ? step : [step];
  }
  return [faults];
}

/**
 * The answer to an unmatched request under `onUnmatched: 'error'`: a 404 whose JSON body
 * carries the miss message and code `NO_MATCHING_TAPE`. An `onUnmatched` function that only
 * wants to log the miss can return this to keep the same answer.
 */
export function unmatchedResponse(miss: ReplayMiss): Response {
  return new Response(
    jsonBody({
      error: { message: miss.message, type: 'tapedeck_no_matching_tape', code: 'NO_MATCHING_TAPE' },
    }),
    {
      // 404 rather than a network error or 5xx: SDKs retry those, which would hide the message.
      status: 404,
      statusText: 'No Matching Tape',
      headers: { 'content-type': 'application/json', 'x-tapedeck-error': 'NO_MATCHING_TAPE' },
    },
  );
}

function copyHeaders(source: Headers): Headers {
  const headers = new Headers();
  source.forEach((value, name) => {
    if (!TRANSFER_HEADERS.has(name)) headers.set(name, value);
  });
  return headers;
}

/**
 * Hands the upstream body on unchanged, but lets the client's cancel return at once: the
 * upstream body is a branch of MSW's own tee for bypassed requests, and waiting on its cancel
 * would hang the client. `beforeEnd` runs before the client sees the end of the body.
 */
function promptBody(
  body: ReadableStream<Uint8Array>,
  beforeEnd: () => Promise<void>,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return withPromptCancelTee(
    new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          let result: ReadableStreamReadResult<Uint8Array>;
          try {
            result = await reader.read();
          } catch (error) {
            await beforeEnd();
            controller.error(error);
            return;
          }
          if (!result.done) {
            controller.enqueue(result.value);
            return;
          }
          await beforeEnd();
          controller.close();
        },
        cancel(reason) {
          reader.cancel(reason).catch(() => {});
          void beforeEnd();
        },
      },
      { highWaterMark: 0 },
    ),
  );
}

/** Records unmatched requests against the real upstream (modes `record` and `auto`). */
function createUpstreamRecorder(
  store: TapeStore,
  recorderOptions: ReplayOptions['recorder'],
  onRecorded: () => void,
) {
  let recorder: Recorder | undefined;
  return {
    async fetch(request: Request): Promise<Response> {
      recorder ??= createRecorder({
        onError: (error) => console.warn(error.message),
        ...recorderOptions,
        store,
      });
      const active = recorder;
      const upstream = active.wrap((input, init) => fetch(bypass(input as Request, init)));
      const response = await upstream(request);
      let saved: Promise<void> | undefined;
      // The tape is in the store before the client reads the end of the stream, so the next
      // request (or the next test) can replay it.
      const save = () => {
        saved ??= active.flush().then(onRecorded, (error: unknown) => {
          console.warn(`[tapedeck] could not save the recorded tape: ${String(error)}`);
        });
        return saved;
      };
      if (!response.body) await save();
      return new Response(response.body ? promptBody(response.body, save) : null, {
        status: response.status,
        statusText: response.statusText,
        headers: copyHeaders(response.headers),
      });
    },
  };
}

const FAULT_TYPES = new Set(['cut', 'stall', 'error-event', 'status', 'first-byte-delay']);

function validate(options: ReplayOptions): void {
  const { onUnmatched, order, faults } = options;
  const fail = (message: string) => {
    throw new TapedeckError({ code: 'INVALID_ARGUMENT', message });
  };
  if (
    onUnmatched !== undefined &&
    typeof onUnmatched !== 'function' &&
    !['error', 'warn', 'bypass'].includes(onUnmatched)
  ) {
    fail(
      `onUnmatched must be 'error', 'warn', 'bypass' or a function, got ${JSON.stringify(onUnmatched)}`,
    );
  }
  if (order !== undefined && order !== 'sequential' && order !== 'latest') {
    fail(`order must be 'sequential' or 'latest', got ${JSON.stringify(order)}`);
  }
  const steps =
    faults === undefined
      ? []
      : Array.isArray(faults)
        ? [faults]
        : 'sequence' in faults
          ? faults.sequence
          : [faults];
  for (const step of steps) {
    if (step === 'ok') continue;
    for (const fault of Array.isArray(step) ? step : [step]) {
      if (!fault || !FAULT_TYPES.has(fault.type)) {
        fail(`fault ${JSON.stringify(fault)} has no known type (${[...FAULT_TYPES].join(', ')})`);
      }
    }
  }
}

/**
 * MSW request handlers that answer requests with recorded tapes.
 *
 * Each matched request gets the tape's status and headers and a body streamed from the tape's
 * raw bytes, chunked, paced and faulted per the options. Unmatched requests follow `onUnmatched`
 * (`'error'` answers 404 with the `[tapedeck]` explanation and logs it). In `record` mode every
 * request, in `auto` mode every unmatched one, goes to the real upstream through
 * `@tapedeck/recorder` and its tape is saved; `passthrough` leaves all requests alone.
 *
 * @example
 * ```ts
 * import { setupServer } from 'msw/node';
 * const server = setupServer(...createReplayHandlers({ store, timing: 'recorded' }));
 * server.listen();
 * ```
 */
export function createReplayHandlers(options: ReplayOptions): RequestHandler[] {
  const {
    store,
    matchRequestsBy,
    order = 'sequential',
    onUnmatched = 'error',
    faults,
    filter,
  } = options;
  if (!store || typeof store.get !== 'function' || typeof store.list !== 'function') {
    throw new TapedeckError({
      code: 'INVALID_ARGUMENT',
      message: 'createReplayHandlers needs a `store` (a TapeStore, e.g. createSqliteStore({path}))',
    });
  }
  // Validate eagerly so a typo fails at setup, not on the first request.
  validate(options);
  resolveTiming(options.timing);
  const mode = resolveMode(options.mode);
  const matcher = createTapeMatcher({ store, matchRequestsBy, order });
  const attempts = new Map<string, number>();
  const upstream =
    mode === 'record' || mode === 'auto'
      ? createUpstreamRecorder(store, options.recorder, () => matcher.refresh())
      : undefined;

  const handler = http.all('*', async ({ request }) => {
    if (filter && !filter(request)) return undefined;
    if (mode === 'passthrough') return passthrough();
    if (mode === 'record') return upstream!.fetch(request);
    const matchable = await toMatchableRequest(request);
    const result = await matcher.match(matchable);
    if (result.matched) {
      const attempt = attempts.get(result.key) ?? 0;
      attempts.set(result.key, attempt + 1);
      const planned = faultsFor(faults, attempt);
      // A request answered with an error status never saw the tape, so the retry gets it.
      if (planned.some((fault) => fault.type === 'status')) result.rewind();
      return tapeResponse(result.tape, planned, request, options);
    }
    const { miss } = result;
    if (mode === 'auto') return upstream!.fetch(request);
    if (onUnmatched === 'bypass') return passthrough();
    if (onUnmatched === 'warn') {
      console.warn(miss.message);
      return passthrough();
    }
    if (typeof onUnmatched === 'function') {
      const response = await onUnmatched(miss);
      return response ?? passthrough();
    }
    console.error(miss.message);
    return unmatchedResponse(miss);
  });
  return [handler];
}
