import { OpenRouter } from '@openrouter/sdk';
import OpenAI from 'openai';
import { Opper } from 'opperai';

/** Which real client call consumes a stream. */
export type ClientKind = 'opper' | 'openrouter-responses' | 'openrouter-chat' | 'openai-responses';

/** What a client yielded, and how it ended. */
export interface Consumed {
  events: unknown[];
  error?: { name: string; message: string; status?: number };
  attempts?: number;
}

/** The request path and body each client sends (the tape's request). */
export function requestFor(kind: ClientKind, origin: string): { url: string; body: unknown } {
  switch (kind) {
    case 'opper':
      return { url: `${origin}/v2/call/stream`, body: { name: 'capital', input: 'France' } };
    case 'openrouter-responses':
      return {
        url: `${origin}/api/v1/responses`,
        // The SDK fills in service_tier and store.
        body: {
          model: 'openai/gpt-4o-mini',
          input: 'Capital of France?',
          stream: true,
          service_tier: 'auto',
          store: false,
        },
      };
    case 'openrouter-chat':
      return {
        url: `${origin}/api/v1/chat/completions`,
        body: {
          model: 'openai/gpt-4o-mini',
          messages: [{ role: 'user', content: 'Hello' }],
          stream: true,
        },
      };
    case 'openai-responses':
      return {
        url: `${origin}/v1/responses`,
        body: { model: 'gpt-4o-mini', input: 'Capital of France?', stream: true },
      };
  }
}

function errorShape(error: unknown): Consumed['error'] {
  const record = error as { name?: string; message?: string; status?: number; statusCode?: number };
  const status = record.status ?? record.statusCode;
  return {
    name: (error as Error)?.constructor?.name ?? record.name ?? 'unknown',
    message: String(record.message ?? error),
    ...(typeof status === 'number' ? { status } : {}),
  };
}

/** Options for {@link consume}. */
export interface ConsumeOptions {
  /** Stop after this many events (break out of the loop). */
  stopAfter?: number;
  signal?: AbortSignal;
  /** Let the SDK retry (fast backoff) instead of failing on the first error. */
  retries?: boolean;
}

/** Runs the real SDK call against `origin` and collects what it yields. */
export async function consume(
  kind: ClientKind,
  origin: string,
  { stopAfter, signal, retries = false }: ConsumeOptions = {},
): Promise<Consumed> {
  const events: unknown[] = [];
  const take = async (iterable: AsyncIterable<unknown>) => {
    for await (const event of iterable) {
      events.push(event);
      if (stopAfter !== undefined && events.length >= stopAfter) break;
    }
  };
  const backoff = {
    strategy: 'backoff' as const,
    backoff: { initialInterval: 1, maxInterval: 2, exponent: 1, maxElapsedTime: 2_000 },
    retryConnectionErrors: true,
  };
  try {
    if (kind === 'opper') {
      const opper = new Opper({
        httpBearer: 'test-key',
        serverURL: `${origin}/v2`,
        retryConfig: retries ? backoff : { strategy: 'none' },
      });
      const response = await opper.stream(
        { name: 'capital', input: 'France' },
        signal ? { fetchOptions: { signal } } : undefined,
      );
      await take(response.result as AsyncIterable<unknown>);
    } else if (kind === 'openrouter-responses' || kind === 'openrouter-chat') {
      const openRouter = new OpenRouter({
        apiKey: 'test-key',
        serverURL: `${origin}/api/v1`,
        retryConfig: retries ? backoff : { strategy: 'none' },
      });
      const options = signal ? { fetchOptions: { signal } } : undefined;
      const stream =
        kind === 'openrouter-responses'
          ? await openRouter.responses.send(
              {
                responsesRequest: {
                  model: 'openai/gpt-4o-mini',
                  input: 'Capital of France?',
                  stream: true,
                },
              },
              options,
            )
          : await openRouter.chat.send(
              {
                chatRequest: {
                  model: 'openai/gpt-4o-mini',
                  messages: [{ role: 'user', content: 'Hello' }],
                  stream: true,
                },
              },
              options,
            );
      await take(stream as AsyncIterable<unknown>);
    } else {
      const openai = new OpenAI({
        apiKey: 'test-key',
        baseURL: `${origin}/v1`,
        maxRetries: retries ? 2 : 0,
      });
      const stream = await openai.responses.create(
        { model: 'gpt-4o-mini', input: 'Capital of France?', stream: true },
        signal ? { signal } : undefined,
      );
      await take(stream as AsyncIterable<unknown>);
    }
    return { events };
  } catch (error) {
    return { events, error: errorShape(error) };
  }
}
