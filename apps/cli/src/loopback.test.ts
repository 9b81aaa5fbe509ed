import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { listenOnLoopback } from './loopback.js';

const servers = [createServer(), createServer()];
afterEach(async () => {
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) =>
          server.listening ? server.close(() => resolve()) : resolve(),
        ),
    ),
  );
});

describe('listenOnLoopback', () => {
  it('resolves to the 127.0.0.1 origin of the port it got', async () => {
    const origin = await listenOnLoopback(servers[0]!, 0);
    const { port } = servers[0]!.address() as { port: number };
    expect(origin).toBe(`http://127.0.0.1:${port}`);
  });

  it('names a busy port and how to pick another', async () => {
    await listenOnLoopback(servers[0]!, 0);
    const { port } = servers[0]!.address() as { port: number };
    await expect(listenOnLoopback(servers[1]!, port)).rejects.toThrow(
      `port ${port} is already in use: pass --port <another> (0 picks a free one)`,
    );
  });
});
