import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { databasePath } from './db-path.js';
import { parseDuration } from './duration.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, oneLine, UsageError } from './errors.js';
import type { CliIo } from './io.js';

const FAMILIES = ['opper', 'openresponses', 'chat-completions', 'sse'] as const;
const OUTCOMES = [
  'recording',
  'complete',
  'aborted',
  'upstream-error',
  'http-error',
  'incomplete',
] as const;

function durationArgument(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) {
    throw new InvalidArgumentError(`"${value}" is not a positive whole number`);
  }
  return number;
}

function portArgument(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65_535) {
    throw new InvalidArgumentError(`"${value}" is not a port (0-65535; 0 picks a free one)`);
  }
  return number;
}

function speedArgument(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw new InvalidArgumentError(`"${value}" is not a positive speed (e.g. 2 for twice as fast)`);
  }
  return number;
}

function urlArgument(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    return value;
  } catch {
    throw new InvalidArgumentError(`"${value}" is not an http(s) URL, e.g. https://api.opper.ai`);
  }
}

function example(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

/**
 * The `tapedeck` program. Actions write data to `io.stdout` and logs to `io.stderr`; errors are
 * thrown and turned into one line and an exit code by {@link runCli}.
 */
export function createProgram(io: CliIo): Command {
  const program = new Command('tapedeck')
    .description('Record, inspect, replay and trace LLM Server-Sent-Event streams.')
    .version('0.1.0')
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: () => {
        // runCli prints usage errors itself, as one line.
      },
    })
    .exitOverride()
    .addHelpText(
      'after',
      `\nThe database is --db, else $TAPEDECK_DB, else ./tapedeck.sqlite.${example('tapedeck demo', 'tapedeck ls --since 1h', 'tapedeck show <id>')}`,
    );

  const dbPath = (options: { db?: string }) =>
    databasePath({ db: options.db, env: io.env, cwd: io.cwd });
  const withDb = (command: Command) =>
    command.option('--db <path>', 'tape database (default: $TAPEDECK_DB or ./tapedeck.sqlite)');

  withDb(
    program
      .command('proxy')
      .description(
        'Run a recording reverse proxy on 127.0.0.1: every stream becomes a tape and a span.',
      )
      .requiredOption('--upstream <url>', 'where to forward requests', urlArgument)
      .option('--port <port>', 'port to listen on', portArgument, 8787)
      .option(
        '--endpoint <url>',
        'OTLP/HTTP endpoint for spans (default: http://localhost:4318 when it answers)',
      )
      .addHelpText(
        'after',
        example(
          'tapedeck proxy --upstream https://api.opper.ai --port 8787',
          '# then point the client at it: new Opper({ serverURL: "http://127.0.0.1:8787/v2" })',
        ),
      ),
  ).action(async (options) => {
    const { runProxy } = await import('./commands/proxy.js');
    await runProxy(io, {
      db: dbPath(options),
      upstream: options.upstream,
      port: options.port,
      endpoint: options.endpoint,
    });
  });

  withDb(
    program
      .command('ls')
      .description('List tapes, newest first.')
      .addOption(new Option('--family <family>', 'only this stream family').choices(FAMILIES))
      .addOption(new Option('--outcome <outcome>', 'only this outcome').choices(OUTCOMES))
      .option(
        '--since <duration>',
        'only tapes started within this long, e.g. 1h, 30m, 7d',
        durationArgument,
      )
      .option('--url <substring>', 'only tapes whose request URL contains this')
      .option('--limit <n>', 'at most this many tapes', positiveInteger, 50)
      .option('--json', 'print the tape summaries as JSON', false)
      .addHelpText(
        'after',
        example(
          'tapedeck ls --family opper --since 1h',
          'tapedeck ls --outcome upstream-error --json',
        ),
      ),
  ).action(async (options) => {
    const { runLs } = await import('./commands/ls.js');
    await runLs(io, {
      db: dbPath(options),
      family: options.family,
      outcome: options.outcome,
      sinceMs: options.since,
      url: options.url,
      limit: options.limit,
      json: options.json,
    });
  });

  withDb(
    program
      .command('show')
      .description(
        'Show one tape: request, outcome, assembled output, event counts, timing and a timeline.',
      )
      .argument('<id>', 'spanId, Opper span_id or response id (a unique prefix is enough)')
      .option('--events', 'list every event', false)
      .option('--json', 'print everything as JSON (bytes as base64)', false)
      .addHelpText(
        'after',
        example('tapedeck show 3f1c9a527d4e4b8a --events', 'tapedeck show resp_01JD8Z3K4Q --json'),
      ),
  ).action(async (id: string, options) => {
    const { runShow } = await import('./commands/show.js');
    await runShow(io, { db: dbPath(options), id, events: options.events, json: options.json });
  });

  withDb(
    program
      .command('play')
      .description("Write a tape's raw stream to stdout with its recorded timing.")
      .argument('<id>', 'spanId, Opper span_id or response id')
      .addOption(
        new Option('--timing <timing>', 'recorded pacing or all at once')
          .choices(['recorded', 'instant'])
          .default('recorded'),
      )
      .option('--speed <n>', 'playback speed multiplier', speedArgument, 1)
      .addHelpText(
        'after',
        example(
          'tapedeck play 3f1c9a527d4e4b8a --speed 2',
          'tapedeck play 3f1c9a527d4e4b8a --timing instant > stream.sse',
        ),
      ),
  ).action(async (id: string, options) => {
    const { runPlay } = await import('./commands/play.js');
    await runPlay(io, { db: dbPath(options), id, timing: options.timing, speed: options.speed });
  });

  withDb(
    program
      .command('serve')
      .description('Run an HTTP replay server on 127.0.0.1 that answers requests from tapes.')
      .option('--port <port>', 'port to listen on', portArgument, 8788)
      .addOption(
        new Option('--timing <timing>', 'recorded pacing or all at once')
          .choices(['recorded', 'instant'])
          .default('recorded'),
      )
      .addHelpText(
        'after',
        example(
          'tapedeck serve --port 8788 --timing instant',
          'curl -N http://127.0.0.1:8788/v2/call/stream -d @request.json',
        ),
      ),
  ).action(async (options) => {
    const { runServe } = await import('./commands/serve.js');
    await runServe(io, { db: dbPath(options), port: options.port, timing: options.timing });
  });

  withDb(
    program
      .command('export')
      .description('Export tapes to files: sse (+ .sse.json timing sidecar), ndjson or har.')
      .argument('[ids...]', 'tapes to export')
      .option('--all', 'export every tape', false)
      .option('--since <duration>', 'export tapes started within this long', durationArgument)
      .addOption(
        new Option('--format <format>', 'file format')
          .choices(['sse', 'ndjson', 'har'])
          .default('ndjson'),
      )
      .option('--out <dir>', 'directory to write to', 'tapedeck-export')
      .option('--json', 'print the written files as JSON', false)
      .addHelpText(
        'after',
        example(
          'tapedeck export --all --format har --out ./har',
          'tapedeck export 3f1c9a527d4e4b8a --format sse --out ./tapes',
        ),
      ),
  ).action(async (ids: string[], options) => {
    const { runExport } = await import('./commands/export.js');
    await runExport(io, {
      db: dbPath(options),
      ids,
      all: options.all,
      sinceMs: options.since,
      format: options.format,
      out: resolve(io.cwd, options.out),
      json: options.json,
    });
  });

  withDb(
    program
      .command('import')
      .description(
        'Import tapes exported with `tapedeck export` (ndjson, har, or .sse with its sidecar).',
      )
      .argument('<files...>', 'files to import')
      .option('--json', 'print the imported ids as JSON', false)
      .addHelpText('after', example('tapedeck import ./tapes/*.ndjson --db ./fixtures.sqlite')),
  ).action(async (files: string[], options) => {
    const { runImport } = await import('./commands/import.js');
    await runImport(io, { db: dbPath(options), files, json: options.json });
  });

  withDb(
    program
      .command('trace')
      .description(
        'Re-emit tapes as OpenTelemetry spans over OTLP/HTTP and print the Jaeger links.',
      )
      .argument('<ids...>', 'tapes to trace')
      .option('--endpoint <url>', 'OTLP/HTTP endpoint', 'http://localhost:4318')
      .option('--jaeger <url>', 'Jaeger UI base URL for the links', 'http://localhost:16686')
      .option('--json', 'print the links as JSON', false)
      .addHelpText(
        'after',
        example('tapedeck trace 3f1c9a527d4e4b8a --endpoint http://localhost:4318'),
      ),
  ).action(async (ids: string[], options) => {
    const { runTrace } = await import('./commands/trace.js');
    await runTrace(io, {
      db: dbPath(options),
      ids,
      endpoint: options.endpoint,
      jaegerUrl: options.jaeger,
      json: options.json,
    });
  });

  withDb(
    program
      .command('prune')
      .description('Delete tapes older than a duration.')
      .requiredOption('--older-than <duration>', 'e.g. 30d, 12h', (value: string) => ({
        ms: durationArgument(value),
        text: value,
      }))
      .option('--dry-run', 'count what would be deleted, delete nothing', false)
      .option('--json', 'print the count as JSON', false)
      .addHelpText('after', example('tapedeck prune --older-than 30d')),
  ).action(async (options) => {
    const { runPrune } = await import('./commands/prune.js');
    await runPrune(io, {
      db: dbPath(options),
      olderThanMs: options.olderThan.ms,
      olderThanText: options.olderThan.text,
      dryRun: options.dryRun,
      json: options.json,
    });
  });

  withDb(
    program
      .command('stats')
      .description('Count tapes, events and bytes by family and outcome.')
      .option('--json', 'print the counts as JSON', false)
      .addHelpText('after', example('tapedeck stats --json')),
  ).action(async (options) => {
    const { runStats } = await import('./commands/stats.js');
    await runStats(io, { db: dbPath(options), json: options.json });
  });

  withDb(
    program
      .command('demo')
      .description(
        'Record, replay and trace real SDK streams against an embedded upstream: no API key, no network.',
      )
      .option(
        '--endpoint <url>',
        'OTLP/HTTP endpoint to export spans to when it answers',
        'http://localhost:4318',
      )
      .addHelpText('after', example('tapedeck demo', 'tapedeck demo --db /tmp/demo.sqlite')),
  ).action(async (options) => {
    const { runDemo } = await import('./demo.js');
    await runDemo(io, { db: dbPath(options), endpoint: options.endpoint });
  });

  return program;
}

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') {
        return EXIT_OK;
      }
      // No command at all: commander has printed the help to stderr.
      if (error.code === 'commander.help') return EXIT_USAGE;
      const command = findCommandName(program, argv);
      const message = error.message.replace(/^error:\s*/, '');
      io.stderr.write(
        `${io.errorColors.red(oneLine(message))} (see \`tapedeck ${command ? `${command} ` : ''}--help\`)\n`,
      );
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`${io.errorColors.red(oneLine(error))}\n`);
      return EXIT_USAGE;
    }
    io.stderr.write(`${io.errorColors.red(oneLine(error))}\n`);
    return EXIT_FAILURE;
  }
}

function findCommandName(program: Command, argv: string[]): string | undefined {
  const names = new Set(program.commands.map((command) => command.name()));
  return argv.find((argument) => names.has(argument));
}
