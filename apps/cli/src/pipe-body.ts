import type { ServerResponse } from 'node:http';

/**
 * Copies a fetch `Response` body to a node:http response chunk by chunk, as each chunk arrives,
 * honouring back-pressure. A client that leaves cancels the source (so an upstream or a replay
 * stops); a source that fails mid-stream (an upstream reset, a replayed cut) ends the client's
 * connection abruptly, as the real server would.
 */
export async function pipeBody(response: Response, target: ServerResponse): Promise<void> {
  if (!response.body) {
    target.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (target.destroyed) {
        await reader.cancel(new Error('the client closed the connection'));
        return;
      }
      if (!target.write(value)) {
        await new Promise<void>((resolve) => {
          target.once('drain', resolve);
          target.once('close', resolve);
        });
      }
    }
    target.end();
  } catch {
    target.destroy();
  }
}
