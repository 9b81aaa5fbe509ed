/**
 * An optional store method taking events packed as {@link PackedEvents} without `data`, which the
 * store derives from the raw bytes. The SQLite store has it; the recorder uses it when present so
 * it never decodes events on the consumer's thread.
 */
export const APPEND_PACKED: unique symbol = Symbol.for('tapedeck.recorder.append-packed');

/**
 * Events packed for a cheap trip to the writer thread: per event, six numbers (index, offsetMs,
 * byteStart, byteEnd, retry or -1, 1 when `data` is included) and three string lengths (type,
 * id, data); the strings concatenated in that order.
 */
export interface PackedEvents {
  count: number;
  numbers: Float64Array;
  lengths: Uint32Array;
  text: string;
}

/** Builds {@link PackedEvents} one event at a time. */
export class EventPacker {
  private numbers: number[] = [];
  private lengths: number[] = [];
  private parts: string[] = [];
  count = 0;

  add(
    index: number,
    offsetMs: number,
    byteStart: number,
    byteEnd: number,
    type: string,
    id: string,
    retry: number | undefined,
    data: string | undefined,
  ): void {
    this.numbers.push(index, offsetMs, byteStart, byteEnd, retry ?? -1, data === undefined ? 0 : 1);
    this.lengths.push(type.length, id.length, data?.length ?? 0);
    this.parts.push(type, id);
    if (data !== undefined) this.parts.push(data);
    this.count += 1;
  }

  /** Returns what was added and starts over. */
  take(): PackedEvents {
    const packed = {
      count: this.count,
      numbers: Float64Array.from(this.numbers),
      lengths: Uint32Array.from(this.lengths),
      text: this.parts.join(''),
    };
    this.numbers = [];
    this.lengths = [];
    this.parts = [];
    this.count = 0;
    return packed;
  }
}
