import { type AssembledOutput, assembleOutput, type Tape } from '@tapedeck/types';
import { formatBytes, formatMs, formatTimestamp, renderTable, truncate } from '../format.js';
import type { CliIo } from '../io.js';
import { findTape, withStore } from '../store.js';
import { summaryOf } from '../tape-files.js';
import { renderTimeline, tapeTiming } from '../timing.js';

/** Options of `tapedeck show`. */
export interface ShowOptions {
  db: string;
  id: string;
  events: boolean;
  json: boolean;
}

/** How many of each SSE event type a tape holds, in first-seen order. */
export function eventTypeCounts(tape: Pick<Tape, 'events' | 'family'>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of tape.events) {
    const key = eventLabel(event, tape.family);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** The event's type, or for `message` events the JSON `type`/`chunk_type` inside it. */
function eventLabel(event: Tape['events'][number], family: Tape['family']): string {
  if (event.type !== 'message') return event.type;
  if (event.data === '[DONE]') return '[DONE]';
  try {
    const value = JSON.parse(event.data) as Record<string, unknown>;
    if (family === 'opper') {
      if (typeof value.chunk_type === 'string') return `chunk_type:${value.chunk_type}`;
      if (typeof value.span_id === 'string') return 'span_id';
    }
    if (typeof value.type === 'string') return value.type;
    if (typeof value.object === 'string') return value.object;
  } catch {
    return 'message (not JSON)';
  }
  return 'message';
}

/** What the stream said, assembled from its events. */
function outputOf(tape: Tape): AssembledOutput {
  return assembleOutput(tape.family, tape.events);
}

/** Everything `show --json` prints: the summary, output, counts, timing, and bytes as base64. */
export function describeTape(tape: Tape) {
  return {
    ...summaryOf(tape),
    output: outputOf(tape),
    eventTypes: eventTypeCounts(tape),
    timing: tapeTiming(tape),
    chunks: tape.chunks,
    events: tape.events,
    rawBase64: Buffer.from(tape.raw.buffer, tape.raw.byteOffset, tape.raw.byteLength).toString(
      'base64',
    ),
  };
}

/** Prints one tape: request, outcome, assembled output, event counts, timing and a timeline. */
export async function runShow(io: CliIo, options: ShowOptions): Promise<void> {
  const tape = await withStore({ path: options.db, create: false }, (store) =>
    findTape(store, options.id, options.db),
  );
  if (options.json) {
    io.stdout.write(`${JSON.stringify(describeTape(tape), null, 2)}\n`);
    return;
  }
  io.stdout.write(`${renderShow(io, tape, { events: options.events })}\n`);
}

function indent(text: string, prefix = '  '): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

/** Human-readable lines for an assembled output. */
export function renderOutput(io: CliIo, output: AssembledOutput): string[] {
  const { colors } = io;
  const lines: string[] = [];
  if (output.reasoning.length > 0) {
    lines.push(colors.dim('reasoning'), ...output.reasoning.map((text) => colors.dim(`  ${text}`)));
  }
  if (output.text !== '')
    lines.push(colors.dim('text'), ...output.text.split('\n').map((line) => `  ${line}`));
  if (output.json !== undefined) {
    lines.push(
      colors.dim('json'),
      ...JSON.stringify(output.json, null, 2)
        .split('\n')
        .map((line) => `  ${line}`),
    );
  }
  for (const call of output.functionCalls) {
    lines.push(
      `${colors.dim('call')}  ${colors.cyan(call.name)}(${call.arguments})${call.callId ? colors.dim(`  ${call.callId}`) : ''}`,
    );
  }
  if (output.refusal) lines.push(`${colors.dim('refusal')}  ${output.refusal}`);
  if (output.error) {
    const kind = [output.error.type, output.error.code].filter(Boolean).join(' ');
    lines.push(
      colors.red(
        `error  ${kind ? `${kind}: ` : ''}${output.error.message} (event ${output.error.eventIndex})`,
      ),
    );
  }
  const usage = output.usage;
  const usageText = usage
    ? [
        usage.inputTokens === undefined ? '' : `in ${usage.inputTokens}`,
        usage.outputTokens === undefined ? '' : `out ${usage.outputTokens}`,
        usage.reasoningTokens ? `reasoning ${usage.reasoningTokens}` : '',
        usage.totalTokens === undefined ? '' : `total ${usage.totalTokens}`,
      ]
        .filter(Boolean)
        .join(' · ')
    : '';
  lines.push(
    colors.dim(
      [
        `status ${output.status}`,
        output.finishReason ? `finish ${output.finishReason}` : '',
        usageText ? `tokens ${usageText}` : '',
      ]
        .filter(Boolean)
        .join('  '),
    ),
  );
  if (output.problems.length > 0) {
    const [first] = output.problems;
    lines.push(
      colors.yellow(
        `${output.problems.length} event${output.problems.length === 1 ? '' : 's'} not understood, first: event ${first?.eventIndex} ${first?.message ?? ''}`,
      ),
    );
  }
  return lines;
}

/** The text `show` prints. */
export function renderShow(io: CliIo, tape: Tape, { events }: { events: boolean }): string {
  const { colors } = io;
  const label = (text: string) => colors.bold(text.padEnd(9));
  const timing = tapeTiming(tape);
  const outcome =
    tape.outcome === 'complete' ? colors.green(tape.outcome) : colors.red(tape.outcome);
  const ids = [
    tape.upstreamSpanId ? `opper span ${tape.upstreamSpanId}` : undefined,
    tape.responseId ? `response ${tape.responseId}` : undefined,
    `trace ${tape.traceId}`,
  ].filter(Boolean);
  const lines: string[] = [
    `${colors.yellow(colors.bold(tape.spanId))}  ${tape.family}${tape.model ? `  ${tape.model}` : ''}`,
    colors.dim(ids.join(' · ')),
    '',
    `${label('request')}${tape.request.method} ${tape.request.url}`,
  ];
  for (const [name, value] of Object.entries(tape.request.headers)) {
    lines.push(`${' '.repeat(9)}${colors.dim(`${name}: ${truncate(value, 80)}`)}`);
  }
  if (tape.request.body !== null) {
    lines.push(`${' '.repeat(9)}${colors.dim(`body: ${truncate(tape.request.body, 100)}`)}`);
  }
  lines.push(
    `${label('response')}${tape.response.status} ${tape.response.statusText}  ${tape.response.headers['content-type'] ?? ''}`.trimEnd(),
    `${label('started')}${formatTimestamp(tape.startedAt)} UTC`,
    `${label('outcome')}${outcome}${tape.error ? `  ${colors.red(tape.error)}` : ''}`,
  );
  const output = renderOutput(io, outputOf(tape));
  lines.push('', colors.bold('output'), output.length > 0 ? indent(output.join('\n')) : '  (none)');
  const counts = eventTypeCounts(tape);
  lines.push(
    '',
    `${colors.bold('events')}   ${tape.eventCount} events, ${formatBytes(tape.byteLength)} in ${tape.chunks.length} chunks`,
    indent(
      renderTable({
        headers: [colors.dim('type'), colors.dim('count')],
        rows: Object.entries(counts).map(([type, count]) => [type, String(count)]),
        align: ['left', 'right'],
      }),
    ),
    '',
    `${label('timing')}TTFT ${formatMs(timing.firstEventMs)} · gaps p50 ${formatMs(timing.gaps.p50)} · p95 ${formatMs(timing.gaps.p95)} · max ${formatMs(timing.gaps.max)} · duration ${formatMs(timing.durationMs)}`,
  );
  if (tape.events.length > 0) {
    const durationMs = tape.durationMs ?? tape.events.at(-1)?.offsetMs ?? 0;
    lines.push(
      `${label('timeline')}${colors.cyan(renderTimeline({ offsetsMs: tape.events.map((event) => event.offsetMs), durationMs }))}`,
      `${' '.repeat(9)}${colors.dim(`0 ms${' '.repeat(Math.max(1, 60 - 4 - formatMs(durationMs).length))}${formatMs(durationMs)}`)}`,
    );
  }
  if (events) {
    lines.push(
      '',
      renderTable({
        headers: ['#', 'OFFSET', 'BYTES', 'TYPE', 'DATA'].map((header) => colors.bold(header)),
        align: ['right', 'right', 'left', 'left', 'left'],
        rows: tape.events.map((event) => [
          String(event.index),
          `+${formatMs(event.offsetMs)}`,
          `${event.byteStart}-${event.byteEnd}`,
          event.type,
          truncate(event.data, 80),
        ]),
      }),
    );
  }
  return lines.join('\n');
}
