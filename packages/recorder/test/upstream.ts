// A real node:http upstream on 127.0.0.1 that streams scripted replies with small delays
// between chunks, like a model streaming tokens.
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the upstream answers. */
export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  chunks: Array<Uint8Array | string>;
  /** Milliseconds between chunks (default 1). */
  delayMs?: number;
  /** After the chunks: end normally, reset the connection, or keep it open. */
  ending?: 'end' | 'reset' | 'hang';
  /** Called after each chunk is written, with its index. */
  onChunkWritten?: (index: number) => void;
}

/** A request as the upstream saw it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

export async function startUpstream(
  handler: (request: SeenRequest) => Reply | Promise<Reply>,
): Promise<{ url: string; requests: SeenRequest[]; close(): Promise<void> }> {
  const requests: SeenRequest[] = [];
  const server = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    const seen: SeenRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(parts).toString('utf8'),
    };
    requests.push(seen);
    const reply = await handler(seen);
    res.writeHead(reply.status ?? 200, { ...SSE_HEADERS, ...reply.headers });
    res.flushHeaders();
    for (const [index, chunk] of reply.chunks.entries()) {
      if (res.destroyed) return;
      if (!res.write(chunk)) await once(res, 'drain').catch(() => {});
      reply.onChunkWritten?.(index);
      const delayMs = reply.delayMs ?? 1;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    if (reply.ending === 'reset') res.socket?.resetAndDestroy();
    else if (reply.ending !== 'hang') res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => {});
    },
  };
}

/** Splits bytes at the given offsets. */
export function splitAt(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const result: Uint8Array[] = [];
  let start = 0;
  for (const offset of [...offsets, bytes.byteLength]) {
    if (offset > start) result.push(bytes.subarray(start, offset));
    start = Math.max(start, offset);
  }
  return result;
}

/** Splits bytes into pieces of `size`. */
export function splitEvery(bytes: Uint8Array, size: number): Uint8Array[] {
  const result: Uint8Array[] = [];
  for (let start = 0; start < bytes.byteLength; start += size) {
    result.push(bytes.subarray(start, start + size));
  }
  return result;
}

/** Reads a body to the end, keeping each chunk as it arrived. */
export async function readChunks(body: ReadableStream<Uint8Array> | null): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  if (!body) return chunks;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
}

export function concatBytes(chunks: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}

/** Fails with the first differing offset (vitest's deep equality is slow on megabytes). */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.equals(b)) return;
  let offset = 0;
  while (offset < Math.min(a.length, b.length) && a[offset] === b[offset]) offset += 1;
  throw new Error(
    `bytes differ at offset ${offset} (lengths ${a.length} and ${b.length}): ${JSON.stringify(a.subarray(offset, offset + 20).toString())} vs ${JSON.stringify(b.subarray(offset, offset + 20).toString())}`,
  );
}
