import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { redactHeaders } from '@tapedeck/recorder';
import { encodeEvent } from '@tapedeck/sse';

/**
 * End-to-end smoke until the full demo lands: a real upstream on 127.0.0.1 streams SSE
 * events, a real fetch consumes them, and the bytes are compared.
 */
export async function runDemo(
  io: { stdout: { write(text: string): unknown } },
  _options: { db: string; endpoint: string },
) {
  const log = (line: string) => io.stdout.write(`${line}\n`);
  const words = ['The', ' capital', ' of', ' France', ' is', ' Paris', '.'];
  const chunks = words.map((delta) =>
    encodeEvent({ data: JSON.stringify({ delta, chunk_type: 'text' }) }),
  );
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const chunk of chunks) response.write(chunk);
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/v2/call/stream`, {
      method: 'POST',
      headers: { authorization: 'Bearer demo-key', accept: 'text/event-stream' },
    });
    const received = new Uint8Array(await response.arrayBuffer());
    const expected = Buffer.concat(chunks);
    if (!Buffer.from(received).equals(expected)) throw new Error('demo: stream bytes differ');
    log(
      `streamed ${chunks.length} events (${received.byteLength} bytes) byte-exact from 127.0.0.1:${port}`,
    );
    log(
      `request headers as stored: ${JSON.stringify(redactHeaders({ authorization: 'Bearer demo-key' }))}`,
    );
  } finally {
    server.close();
  }
}
