import type { Tape } from '@tapedeck/types';
import { describe, expect, it } from 'vitest';
import { buildTape, readFixture } from '../test/helpers.js';
import { planReplay } from './plan.js';
import type { ReplayFault } from './types.js';

const raw = readFixture('opper-text.sse');
const tape = buildTape({ raw, family: 'opper', url: 'http://x.test/v2/call/stream' });
const ends = tape.events.map((event) => event.byteEnd);

describe('planReplay faults', () => {
  it('stalls after an event: later chunks are due durationMs later', () => {
    const plan = planReplay({
      tape,
      chunking: 'event',
      faults: [{ type: 'stall', afterEvents: 2, durationMs: 500 }],
    });
    expect(plan.pieces.map((piece) => piece.atMs)).toEqual(
      ends.map((_, index) => (index < 2 ? 0 : 500)),
    );
  });

  it('delays the first byte', () => {
    const plan = planReplay({ tape, faults: [{ type: 'first-byte-delay', delayMs: 300 }] });
    expect(plan.pieces.every((piece) => piece.atMs === 300)).toBe(true);
  });

  it('cuts exactly after N events or K bytes, whichever comes first', () => {
    const byEvents = planReplay({ tape, faults: [{ type: 'cut', afterEvents: 3 }] });
    expect(byEvents.end).toBe('cut');
    expect(byEvents.pieces.at(-1)!.end).toBe(ends[2]);
    const byBytes = planReplay({ tape, faults: [{ type: 'cut', afterEvents: 3, afterBytes: 10 }] });
    expect(byBytes.pieces.at(-1)!.end).toBe(10);
  });

  it("appends the family's error event after N events and ends normally", () => {
    const plan = planReplay({
      tape,
      faults: [{ type: 'error-event', afterEvents: 1, code: 'ModelError', message: 'boom' }],
    });
    expect(plan.end).toBe('close');
    const injected = new TextDecoder().decode(plan.pieces.at(-1)!.bytes);
    expect(injected).toBe(
      'data: {"chunk_type":"error","error_type":"ModelError","error_message":"boom"}\n\n',
    );
    expect(plan.pieces.at(-2)!.end).toBe(ends[0]);
  });

  it("writes each family's error event byte for byte", () => {
    const injectedAfter = (family: Tape['family'], fixture: string, fault: ReplayFault) =>
      new TextDecoder().decode(
        planReplay({
          tape: buildTape({ raw: readFixture(fixture), family, url: 'http://x.test/' }),
          faults: [fault],
        }).pieces.at(-1)!.bytes,
      );
    expect(
      injectedAfter('openresponses', 'openresponses-text.sse', {
        type: 'error-event',
        afterEvents: 2,
        code: 'rate_limit_exceeded',
        message: 'slow down',
      }),
    ).toBe(
      'event: error\ndata: {"type":"error","sequence_number":2,"code":"rate_limit_exceeded","message":"slow down","param":null}\n\n',
    );
    const failed = injectedAfter('openresponses', 'openresponses-text.sse', {
      type: 'error-event',
      afterEvents: 1,
      as: 'response.failed',
      code: 'server_error',
      message: 'model crashed',
    });
    expect(failed).toMatch(
      /^event: response\.failed\ndata: \{"type":"response\.failed","sequence_number":1,"response":\{"id":"resp_01JD8Z3K4Q",.*"status":"failed".*"error":\{"code":"server_error","message":"model crashed"\}.*\}\}\n\n$/,
    );
    expect(
      injectedAfter('chat-completions', 'openrouter-chat.sse', {
        type: 'error-event',
        afterEvents: 1,
        code: '429',
        message: 'provider overloaded',
      }),
    ).toBe(
      'data: {"id":"gen-1763700000-abc","object":"chat.completion.chunk","created":1763700000,"model":"openai/gpt-4o-mini","error":{"code":429,"message":"provider overloaded"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}\n\n',
    );
    expect(injectedAfter('sse', 'opper-text.sse', { type: 'error-event', afterEvents: 1 })).toBe(
      'data: {"error":{"code":"server_error","message":"The server had an error while processing your request."}}\n\n',
    );
  });

  it('rejects a cut with no position, naming the fault', () => {
    expect(() => planReplay({ tape, faults: [{ type: 'cut' }] })).toThrow(
      /\[tapedeck\] fault \{type: "cut"\} needs afterEvents or afterBytes/,
    );
  });
});

describe('tapes without events', () => {
  it('frames events from the raw bytes with the SSE parser', () => {
    const bare = { ...tape, events: [] };
    const plan = planReplay({
      tape: bare,
      chunking: 'event',
      faults: [{ type: 'cut', afterEvents: 2 }],
    });
    expect(plan.pieces.map((piece) => piece.end)).toEqual(ends.slice(0, 2));
    expect(plan.end).toBe('cut');
  });
});
