import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listens on 127.0.0.1:`port` (0 picks a free port) and resolves to the origin. A busy port
 * rejects with a message that says how to fix it, for every command that serves.
 */
export function listenOnLoopback(server: Server, port: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `port ${port} is already in use: pass --port <another> (0 picks a free one)`,
              {
                cause: error,
              },
            )
          : error,
      );
    };
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}
