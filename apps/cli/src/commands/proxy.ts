import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { instrumentFetch, type StreamEndInfo } from '@tapedeck/otel';
import { createRecorder, type Recorder } from '@tapedeck/recorder';
import type { TapeStore } from '@tapedeck/types';
import { formatMs } from '../format.js';
import { type CliIo, waitForShutdownSignal } from '../io.js';
import { listenOnLoopback } from '../loopback.js';
import { pipeBody } from '../pipe-body.js';
import { openStore } from '../store.js';
import { type CliTracing, startCliTracing } from '../tracing.js';

/** Options of `tapedeck proxy`. */
export interface ProxyOptions {
  db: string;
  upstream: string;
  port: number;
  endpoint?: string;
}

/** What the proxy reports once a stream has ended and its tape is stored. */
export interface ProxiedStream {
  spanId: string;
  traceId: string;
  jaegerUrl: string;
  family?: string;
  outcome?: string;
  events?: number;
  firstEventMs?: number;
  method: string;
  path: string;
  status: number;
}

/** A running recording proxy. */
export interface RecordingProxy {
  origin: string;
  server: Server;
  /** Stops listening, ends open streams and flushes every open tape. */
  close(): Promise<void>;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) and ones fetch sets itself.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  // Streams pass through as the upstream sent them, uncompressed, so the tape is the wire.
  'accept-encoding',
]);

function requestHeaders(request: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

function responseHeaders(response: Response): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    // fetch has already decoded the body, so length and encoding no longer describe it.
    if (HOP_BY_HOP.has(name) || name === 'content-encoding') return;
    headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  return headers;
}

async function readBody(request: IncomingMessage): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return parts.length === 0 ? undefined : new Uint8Array(Buffer.concat(parts));
}

/** The upstream URL for an incoming path: the upstream's own path prefix is kept. */
export function upstreamUrl(upstream: string, path: string): URL {
  const base = new URL(upstream);
  const prefix = base.pathname.replace(/\/+$/, '');
  // Collapse leading slashes: `//host/x` must stay a path on the upstream, not a new origin.
  return new URL(`${prefix}/${path.replace(/^\/+/, '')}`, base.origin);
}

/**
 * Starts a recording reverse proxy on 127.0.0.1: each request goes to `upstream` through the
 * recorder and an OpenTelemetry span, and the response streams back chunk for chunk.
 */
export async function startRecordingProxy({
  store,
  upstream,
  port,
  jaegerBaseUrl,
  onStream,
  onError,
}: {
  store: TapeStore;
  upstream: string;
  port: number;
  jaegerBaseUrl?: string;
  onStream?: (stream: ProxiedStream) => void;
  onError?: (message: string) => void;
}): Promise<RecordingProxy & { recorder: Recorder }> {
  const recorder = createRecorder({
    store,
    onError: (error) => onError?.(error.message),
  });
  const recordedFetch = recorder.wrap(globalThis.fetch);
  const inFlight = new Set<ServerResponse>();

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = request.url ?? '/';
    const method = request.method ?? 'GET';
    const abort = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) abort.abort(new Error('the client closed the connection'));
    });
    let ended: ((info: StreamEndInfo) => void) | undefined;
    const streamEnded = new Promise<StreamEndInfo>((resolve) => {
      ended = resolve;
    });
    // One wrapper per request, so its onStreamEnd belongs to this request alone.
    const tracedFetch = instrumentFetch(recordedFetch, {
      jaegerBaseUrl,
      onStreamEnd: (info) => ended?.(info),
    });
    let upstreamResponse: Response;
    try {
      const body = await readBody(request);
      upstreamResponse = await tracedFetch(upstreamUrl(upstream, path), {
        method,
        headers: requestHeaders(request),
        body,
        signal: abort.signal,
        redirect: 'manual',
      });
    } catch (error) {
      const message = `[tapedeck] upstream ${upstream} failed for ${method} ${path}: ${error instanceof Error ? error.message : String(error)}`;
      onError?.(message);
      if (!response.headersSent) {
        response.writeHead(502, { 'content-type': 'application/json' });
      }
      response.end(JSON.stringify({ error: { message, type: 'tapedeck_upstream_error' } }));
      return;
    }
    response.writeHead(
      upstreamResponse.status,
      upstreamResponse.statusText,
      responseHeaders(upstreamResponse),
    );
    response.flushHeaders();
    const streaming = /^\s*text\/event-stream/i.test(
      upstreamResponse.headers.get('content-type') ?? '',
    );
    await pipeBody(upstreamResponse, response);
    if (!streaming) return;
    let timer: ReturnType<typeof globalThis.setTimeout> | number | undefined;
    const info = await Promise.race([
      streamEnded,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(resolve, 1000);
      }),
    ]);
    clearTimeout(timer);
    if (!info) return;
    await recorder.flush();
    const tape = await store.get(info.spanId).catch(() => undefined);
    onStream?.({
      spanId: info.spanId,
      traceId: info.traceId,
      jaegerUrl: info.jaegerUrl,
      family: tape?.family,
      outcome: tape?.outcome,
      events: tape?.eventCount,
      firstEventMs: tape?.firstEventMs,
      method,
      path,
      status: upstreamResponse.status,
    });
  };

  const server = createServer((request, response) => {
    inFlight.add(response);
    response.on('close', () => inFlight.delete(response));
    handle(request, response).catch((error: unknown) => {
      onError?.(`[tapedeck] proxy failed: ${String(error)}`);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  let origin: string;
  try {
    origin = await listenOnLoopback(server, port);
  } catch (error) {
    // Nothing was recorded yet, but the recorder holds a flush timer: let it go.
    await recorder.close();
    throw error;
  }
  return {
    origin,
    server,
    recorder,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Open tapes end as `incomplete` with everything received so far, then connections close.
      await recorder.close();
      for (const response of inFlight) response.destroy();
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Runs the recording proxy until SIGINT or SIGTERM. */
export async function runProxy(io: CliIo, options: ProxyOptions): Promise<void> {
  const colors = io.errorColors;
  const store = await openStore({ path: options.db, create: true });
  let tracing: CliTracing | undefined;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  try {
    tracing = await startCliTracing({
      endpoint: options.endpoint ?? io.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318',
      probeTimeoutMs: 500,
    });
    proxy = await startRecordingProxy({
      store,
      upstream: options.upstream,
      port: options.port,
      onError: (message) => io.stderr.write(`${colors.red(message.replace(/\s*\n\s*/g, ' '))}\n`),
      onStream: (stream) => {
        const outcome =
          stream.outcome === 'complete'
            ? colors.green(stream.outcome)
            : colors.red(stream.outcome ?? 'unrecorded');
        io.stderr.write(
          `[tapedeck] ${colors.yellow(stream.spanId)} ${stream.method} ${stream.path} ${stream.family ?? '?'} ${outcome} ${stream.events ?? 0} events TTFT ${formatMs(stream.firstEventMs)} ${colors.cyan(stream.jaegerUrl)}\n`,
        );
      },
    });
  } catch (error) {
    await tracing?.shutdown();
    await store.close();
    throw error;
  }
  io.stderr.write(
    `[tapedeck] recording ${options.upstream} through ${colors.bold(proxy.origin)} into ${options.db}; spans ${tracing.mode === 'otlp' ? `to ${tracing.tracesUrl}` : 'stay local (no OTLP collector answered)'}; Ctrl-C to stop\n`,
  );
  io.stdout.write(`${proxy.origin}\n`);
  await waitForShutdownSignal();
  await proxy.close();
  await tracing.shutdown();
  await store.close();
  const stats = proxy.recorder.stats();
  io.stderr.write(
    `[tapedeck] proxy stopped: ${stats.recorded} stream${stats.recorded === 1 ? '' : 's'} recorded in ${options.db}\n`,
  );
}
