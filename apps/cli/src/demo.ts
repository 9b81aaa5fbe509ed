import { relative } from 'node:path';
import { OpenRouter, HTTPClient as OpenRouterHttpClient } from '@openrouter/sdk';
import { instrumentFetch, type StreamEndInfo } from '@tapedeck/otel';
import { createRecorder } from '@tapedeck/recorder';
import { createReplayHandlers } from '@tapedeck/replayer';
import type { Tape, TapeStore } from '@tapedeck/types';
import { setupServer } from 'msw/node';
import OpenAI from 'openai';
import { HTTPClient, Opper } from 'opperai';
import { startDemoUpstream } from './demo-upstream.js';
import { failure } from './errors.js';
import { formatMs, renderTable, truncate } from './format.js';
import { type CliIo, invocation } from './io.js';
import { JAEGER_COMMAND } from './otlp.js';
import { openStore } from './store.js';
import { type CliTracing, startCliTracing } from './tracing.js';

/** Options of `tapedeck demo`. */
export interface DemoOptions {
  db: string;
  endpoint: string;
}

// Not a real key: the embedded upstream ignores it, and the recorder must redact it.
const DEMO_KEY = 'sk-demo-not-a-real-key';

/** One call the demo makes with a real SDK. */
interface Scenario {
  client: 'opperai' | '@openrouter/sdk' | 'openai';
  what: string;
  /** Makes the call with `fetch` and returns what the user would see. */
  run(options: { origin: string; fetch: typeof globalThis.fetch }): Promise<string>;
}

function opperClient(origin: string, fetcher?: typeof globalThis.fetch) {
  return new Opper({
    httpBearer: DEMO_KEY,
    serverURL: `${origin}/v2`,
    ...(fetcher ? { httpClient: new HTTPClient({ fetcher }) } : {}),
  });
}

/** The Opper text call; the replay makes it again, so it lives apart. */
async function opperCapital(origin: string, fetcher?: typeof globalThis.fetch) {
  const { result } = await opperClient(origin, fetcher).stream({
    name: 'demo/capital',
    instructions: 'Answer in one sentence.',
    input: 'What is the capital of France?',
  });
  let text = '';
  let events = 0;
  for await (const event of result) {
    events += 1;
    if (typeof event.data?.delta === 'string') text += event.data.delta;
  }
  return { text, events };
}

function openRouterClient(origin: string, fetcher: typeof globalThis.fetch) {
  return new OpenRouter({
    apiKey: DEMO_KEY,
    serverURL: `${origin}/api/v1`,
    httpClient: new OpenRouterHttpClient({ fetcher }),
  });
}

function openAiClient(origin: string, fetcher: typeof globalThis.fetch) {
  return new OpenAI({ apiKey: DEMO_KEY, baseURL: `${origin}/v1`, fetch: fetcher, maxRetries: 0 });
}

type Streamed = AsyncIterable<Record<string, unknown>>;

const SCENARIOS: Scenario[] = [
  {
    client: 'opperai',
    what: 'text',
    run: async ({ origin, fetch }) => (await opperCapital(origin, fetch)).text,
  },
  {
    client: 'opperai',
    what: 'structured JSON',
    async run({ origin, fetch }) {
      const { result } = await opperClient(origin, fetch).stream({
        name: 'demo/pioneers',
        instructions: 'Name two pioneers of computing.',
        input: 'pioneers',
        outputSchema: {
          type: 'object',
          properties: { people: { type: 'array', items: { type: 'object' } } },
        },
      });
      const paths = new Set<string>();
      for await (const event of result) if (event.data?.jsonPath) paths.add(event.data.jsonPath);
      return `${paths.size} json paths (${[...paths].slice(0, 2).join(', ')}, …)`;
    },
  },
  {
    client: '@openrouter/sdk',
    what: 'responses text',
    async run({ origin, fetch }) {
      const stream = (await openRouterClient(origin, fetch).responses.send({
        responsesRequest: {
          model: 'openai/gpt-4o-mini',
          input: 'Why record LLM streams?',
          stream: true,
        },
      })) as unknown as Streamed;
      let text = '';
      for await (const event of stream) {
        if (event.type === 'response.output_text.delta') text += String(event.delta);
      }
      return text;
    },
  },
  {
    client: '@openrouter/sdk',
    what: 'function call',
    async run({ origin, fetch }) {
      const stream = (await openRouterClient(origin, fetch).responses.send({
        responsesRequest: {
          model: 'openai/gpt-4o-mini',
          input: 'What is the weather in Paris?',
          tools: [
            {
              type: 'function',
              name: 'get_weather',
              description: 'Current weather for a city',
              parameters: {
                type: 'object',
                properties: { city: { type: 'string' }, units: { type: 'string' } },
              },
            },
          ],
          stream: true,
        },
      })) as unknown as Streamed;
      let call = '';
      for await (const event of stream) {
        if (event.type === 'response.function_call_arguments.done') {
          call = `${String(event.name)}(${String(event.arguments)})`;
        }
      }
      return call;
    },
  },
  {
    client: 'openai',
    what: 'reasoning',
    async run({ origin, fetch }) {
      const stream = await openAiClient(origin, fetch).responses.create({
        model: 'o4-mini',
        input: 'Which is larger, 9.11 or 9.9?',
        reasoning: { effort: 'low', summary: 'auto' },
        stream: true,
      });
      let summary = '';
      let text = '';
      for await (const event of stream) {
        if (event.type === 'response.reasoning_summary_text.delta') summary += event.delta;
        if (event.type === 'response.output_text.delta') text += event.delta;
      }
      return `${text} (thought: ${summary})`;
    },
  },
  {
    client: 'openai',
    what: 'error event',
    async run({ origin, fetch }) {
      const stream = await openAiClient(origin, fetch).responses.create({
        model: 'demo/error-model',
        input: 'This one fails.',
        stream: true,
      });
      let seen = 'no error event';
      try {
        // Read to the end rather than break: breaking would record the tape as aborted.
        for await (const event of stream) {
          if (event.type === 'error') seen = `error ${event.code}: ${event.message}`;
        }
      } catch (error) {
        seen = `error: ${(error as Error).message}`;
      }
      return seen;
    },
  },
  {
    client: '@openrouter/sdk',
    what: 'chat completions',
    async run({ origin, fetch }) {
      const stream = (await openRouterClient(origin, fetch).chat.send({
        chatRequest: {
          model: 'openai/gpt-4o-mini',
          messages: [{ role: 'user', content: 'Sell me tapedeck in one line.' }],
          stream: true,
        },
      })) as unknown as Streamed;
      let text = '';
      for await (const chunk of stream) {
        const choices = chunk.choices as Array<{ delta?: { content?: string } }> | undefined;
        text += choices?.[0]?.delta?.content ?? '';
      }
      return text;
    },
  },
];

interface Recorded {
  scenario: Scenario;
  preview: string;
  info?: StreamEndInfo;
  tape?: Tape;
}

/**
 * The main job on embedded defaults: real SDK streams from an embedded upstream are recorded
 * into the database, one is replayed through MSW into the same client, and the spans go to
 * Jaeger when it runs (otherwise a summary is printed). No API key and no network.
 */
export async function runDemo(io: CliIo, options: DemoOptions): Promise<void> {
  const { colors } = io;
  const say = (line = '') => io.stdout.write(`${line}\n`);
  const startedAt = performance.now();
  const upstream = await startDemoUpstream();
  let store: TapeStore | undefined;
  let tracing: CliTracing | undefined;
  try {
    store = await openStore({ path: options.db, create: true });
    tracing = await startCliTracing({ endpoint: options.endpoint, collect: true });
    say(colors.bold('tapedeck demo'));
    say(
      colors.dim(
        `embedded upstream ${upstream.origin} (Opper, OpenResponses, chat completions); no API key, no network`,
      ),
    );
    say();

    // 1. Record: every SDK call goes through the recorder and gets a span.
    say(colors.bold('1. record real SDK streams'));
    const recorder = createRecorder({
      store,
      onError: (error) => io.stderr.write(`${colors.red(error.message)}\n`),
    });
    const recorded: Recorded[] = [];
    for (const scenario of SCENARIOS) {
      const entry: Recorded = { scenario, preview: '' };
      const fetch = instrumentFetch(recorder.wrap(globalThis.fetch), {
        onStreamEnd: (info) => {
          entry.info = info;
        },
      });
      entry.preview = await scenario.run({ origin: upstream.origin, fetch });
      recorded.push(entry);
    }
    await recorder.close();
    for (const entry of recorded) {
      if (entry.info) entry.tape = await store.get(entry.info.spanId);
    }
    say(
      renderTable({
        headers: [
          'client',
          'stream',
          'family',
          'outcome',
          'events',
          'TTFT',
          'tape',
          'what the client saw',
        ].map((header) => colors.dim(header)),
        align: ['left', 'left', 'left', 'left', 'right', 'right', 'left', 'left'],
        rows: recorded.map(({ scenario, preview, tape }) => [
          scenario.client,
          scenario.what,
          tape?.family ?? '-',
          tape?.outcome === 'complete'
            ? colors.green(tape.outcome)
            : colors.red(tape?.outcome ?? 'not recorded'),
          String(tape?.eventCount ?? 0),
          formatMs(tape?.firstEventMs),
          colors.yellow(tape?.spanId ?? '-'),
          truncate(preview, 48),
        ]),
      }).replace(/^/gm, '  '),
    );
    const missing = recorded.filter((entry) => !entry.tape);
    if (missing.length > 0) {
      throw failure(
        'RECORDER_FAILURE',
        `demo: ${missing.map((entry) => `${entry.scenario.client} ${entry.scenario.what}`).join(', ')} left no tape in ${options.db}`,
        { path: options.db },
      );
    }
    say(colors.dim(`  ${recorded.length} tapes written to ${options.db}`));
    say();

    // 2. Replay: the upstream goes away and MSW answers the same client from the tape.
    const live = recorded[0] as Recorded & { tape: Tape };
    say(colors.bold('2. replay a tape into the same client (upstream stopped, MSW answers)'));
    await upstream.close();
    const liveRun = { text: live.preview, events: live.tape.eventCount };
    const server = setupServer(
      ...createReplayHandlers({
        store,
        mode: 'replay',
        timing: 'recorded',
        filter: (request) => request.url.startsWith(upstream.origin),
        onUnmatched: (miss) => {
          throw failure('NO_MATCHING_TAPE', miss.message);
        },
      }),
    );
    server.listen({ onUnhandledRequest: 'bypass' });
    let replayRun: { text: string; events: number };
    try {
      replayRun = await opperCapital(upstream.origin);
    } finally {
      server.close();
    }
    const agree = replayRun.text === liveRun.text && replayRun.events === liveRun.events;
    say(`  live    ${liveRun.events} events  ${JSON.stringify(liveRun.text)}`);
    say(`  replay  ${replayRun.events} events  ${JSON.stringify(replayRun.text)}`);
    if (!agree) {
      throw failure(
        'NO_MATCHING_TAPE',
        `demo: the replay of tape ${live.tape.spanId} differs from the live stream`,
        { tapeId: live.tape.spanId },
      );
    }
    say(`  ${colors.green('✓')} live and replay agree, with the recorded timing`);
    say();

    // 3. Traces.
    say(colors.bold('3. traces'));
    if (tracing.mode === 'otlp') {
      await tracing.forceFlush();
      say(`  spans exported to ${tracing.tracesUrl}; open them in Jaeger:`);
      for (const entry of recorded) {
        if (entry.info)
          say(
            `  ${entry.scenario.client} ${entry.scenario.what}: ${colors.cyan(entry.info.jaegerUrl)}`,
          );
      }
    } else {
      const spans = tracing.finishedSpans();
      say(
        renderTable({
          headers: ['span', 'duration', 'events', 'end', 'attributes'].map((header) =>
            colors.dim(header),
          ),
          align: ['left', 'right', 'right', 'left', 'left'],
          rows: spans.map((span) => {
            const attributes = span.attributes;
            const durationMs = span.duration[0] * 1000 + span.duration[1] / 1e6;
            const detail = [
              attributes['gen_ai.response.model'] ?? attributes['gen_ai.request.model'],
              attributes['gen_ai.usage.output_tokens'] === undefined
                ? undefined
                : `${attributes['gen_ai.usage.output_tokens']} output tokens`,
              attributes['tapedeck.tape.span_id'] === undefined
                ? undefined
                : `tape ${attributes['tapedeck.tape.span_id']}`,
            ].filter((value) => value !== undefined);
            return [
              truncate(span.name, 36),
              formatMs(durationMs),
              String(attributes['tapedeck.event.count'] ?? span.events.length),
              String(attributes['tapedeck.end_reason'] ?? '-'),
              detail.join(' · '),
            ];
          }),
        }).replace(/^/gm, '  '),
      );
      say(
        colors.dim(
          `  no OTLP collector at ${options.endpoint}; to see these in Jaeger, run \`${JAEGER_COMMAND}\` and then \`${invocation({ cwd: io.cwd })} demo\` again`,
        ),
      );
    }
    say();

    // 4. What to run next.
    const relativeDb = relative(io.cwd, options.db);
    const dbFlag = relativeDb === 'tapedeck.sqlite' ? '' : ` --db ${options.db}`;
    const first = live.tape.spanId;
    const tapedeck = invocation({ cwd: io.cwd });
    say(colors.bold(`done in ${formatMs(performance.now() - startedAt)}. next:`));
    const steps: Array<[string, string]> = [
      [`${tapedeck} ls${dbFlag}`, 'every tape'],
      [`${tapedeck} show ${first}${dbFlag}`, 'output, event counts, timing, timeline'],
      [`${tapedeck} play ${first}${dbFlag}`, 'the raw stream, at its recorded pace'],
      [`${tapedeck} serve${dbFlag}`, 'a replay server for clients in any language'],
      tracing.mode === 'otlp' && live.info
        ? [live.info.jaegerUrl, 'this stream in Jaeger']
        : [`${tapedeck} trace ${first}${dbFlag}`, 'send it to Jaeger once Jaeger runs'],
    ];
    const width = Math.max(...steps.map(([command]) => command.length));
    for (const [command, why] of steps) say(`  ${command.padEnd(width)}  ${colors.dim(why)}`);
  } finally {
    await upstream.close();
    await tracing?.shutdown();
    await store?.close();
  }
}
