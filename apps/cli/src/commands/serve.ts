import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createReplayHandlers, type ReplayMiss, unmatchedResponse } from '@tapedeck/replayer';
import { normalizeUrl, type TapeStore } from '@tapedeck/types';
import { getResponse } from 'msw';
import { type CliIo, waitForShutdownSignal } from '../io.js';
import { listenOnLoopback } from '../loopback.js';
import { pipeBody } from '../pipe-body.js';
import { openStore } from '../store.js';

/** Options of `tapedeck serve`. */
export interface ServeOptions {
  db: string;
  port: number;
  timing: 'recorded' | 'instant';
}

/** A running replay server. */
export interface ReplayServer {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * The request's key for URL matching: @tapedeck/types' normalizeUrl without the origin (path
 * and sorted query), since clients now call this server, never the recorded upstream.
 */
export function pathAndQuery(url: URL): string {
  return normalizeUrl(url.href).slice(url.origin.length);
}

function toRequest(request: IncomingMessage, origin: string, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  return new Request(new URL(request.url ?? '/', origin), {
    method: request.method,
    headers,
    body: hasBody ? (Readable.toWeb(request) as ReadableStream<Uint8Array>) : undefined,
    signal,
    // Node needs this to stream a request body.
    duplex: 'half',
  } as RequestInit);
}

async function sendResponse(response: Response, target: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  target.writeHead(response.status, response.statusText, headers);
  target.flushHeaders();
  await pipeBody(response, target);
}

/**
 * Starts a node:http server on 127.0.0.1 that answers from tapes with @tapedeck/replayer's MSW
 * handlers; URLs match by path and query, since clients now call this server's origin.
 */
export async function startReplayServer({
  store,
  port,
  timing,
  onMiss,
  onServe,
}: {
  store: TapeStore;
  port: number;
  timing: 'recorded' | 'instant';
  onMiss?: (miss: ReplayMiss) => void;
  onServe?: (line: { method: string; path: string; status: number }) => void;
}): Promise<ReplayServer> {
  const handlers = createReplayHandlers({
    store,
    timing,
    mode: 'replay',
    matchRequestsBy: { url: pathAndQuery },
    onUnmatched: (miss) => {
      onMiss?.(miss);
      return unmatchedResponse(miss);
    },
  });
  let origin = '';
  const server = createServer((request, response) => {
    const abort = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) abort.abort(new Error('the client closed the connection'));
    });
    void (async () => {
      try {
        const answer =
          (await getResponse(handlers, toRequest(request, origin, abort.signal))) ??
          new Response(JSON.stringify({ error: { message: '[tapedeck] no handler answered' } }), {
            status: 404,
          });
        onServe?.({
          method: request.method ?? 'GET',
          path: request.url ?? '/',
          status: answer.status,
        });
        await sendResponse(answer, response);
      } catch (error) {
        if (!response.headersSent) {
          response.writeHead(500, { 'content-type': 'application/json' });
        }
        response.end(
          JSON.stringify({ error: { message: `[tapedeck] replay failed: ${String(error)}` } }),
        );
      }
    })();
  });
  origin = await listenOnLoopback(server, port);
  return {
    origin,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs the replay server until SIGINT or SIGTERM. */
export async function runServe(io: CliIo, options: ServeOptions): Promise<void> {
  const store = await openStore({ path: options.db, create: false });
  const { colors } = { colors: io.errorColors };
  let replay: ReplayServer;
  try {
    replay = await startReplayServer({
      store,
      port: options.port,
      timing: options.timing,
      onMiss: (miss) => io.stderr.write(`${colors.red(miss.message.replace(/\s*\n\s*/g, ' '))}\n`),
      onServe: ({ method, path, status }) =>
        io.stderr.write(
          `${colors.dim(new Date().toISOString())} ${method} ${path} → ${status < 300 ? colors.green(String(status)) : colors.red(String(status))}\n`,
        ),
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  io.stderr.write(
    `[tapedeck] replaying tapes from ${options.db} on ${colors.bold(replay.origin)} (timing: ${options.timing}); point your client's base URL here, Ctrl-C to stop\n`,
  );
  // Data on stdout: the address, for scripts that start the server and read where it listens.
  io.stdout.write(`${replay.origin}\n`);
  await waitForShutdownSignal();
  await replay.close();
  await store.close();
  io.stderr.write('[tapedeck] replay server stopped\n');
}
