// A UTF-8 to UTF-16 decoder in WebAssembly, for valid UTF-8 only. Node 20's decoders are slow on
// text that is mostly ASCII with some other characters, which is what LLM streams carry:
// TextDecoder goes through ICU (about 1 ns a byte) and V8's decoder through a byte-at-a-time state
// machine (about twice that). This one copies runs of ASCII 16 bytes at a time with SIMD and
// decodes the other characters one by one. It rejects anything that is not valid UTF-8 (the
// caller then decodes those bytes the WHATWG way, replacement characters and all), so on what it
// accepts the result is unambiguous.
//
// The module is assembled here from its instructions rather than shipped as an opaque binary, so
// the code below is its source.

/** A decoder for valid UTF-8, made by {@link createWasmUtf8Decoder}. */
export interface WasmUtf8Decoder {
  /**
   * Decodes `buffer[start, end)`, or returns `undefined` when those bytes are not valid UTF-8
   * (including a character cut off at either end) or are more than 1 MiB.
   */
  decode(buffer: Uint8Array, start: number, end: number): string | undefined;
}

// Instruction encodings (WebAssembly core spec, binary format).
const BLOCK = 0x02;
const LOOP = 0x03;
const IF = 0x04;
const ELSE = 0x05;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const RETURN = 0x0f;
const VOID = 0x40;
const I32 = 0x7f;
const V128 = 0x7b;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_LOAD8_U = 0x2d;
const I32_STORE16 = 0x3b;
const I32_CONST = 0x41;
const I32_EQZ = 0x45;
const I32_NE = 0x47;
const I32_LT_U = 0x49;
const I32_GT_U = 0x4b;
const I32_LE_U = 0x4d;
const I32_GE_U = 0x4f;
const I32_CTZ = 0x68;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_AND = 0x71;
const I32_OR = 0x72;
const I32_SHL = 0x74;
const I32_SHR_U = 0x76;
const SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00];
const V128_STORE = [SIMD, 0x0b];
const I8X16_BITMASK = [SIMD, 0x64];
const I16X8_EXTEND_LOW_I8X16_U = [SIMD, 0x89, 0x01];
const I16X8_EXTEND_HIGH_I8X16_U = [SIMD, 0x8a, 0x01];

// Unsigned and signed LEB128, as the binary format spells numbers.
function unsigned(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    const byte = rest & 0x7f;
    rest >>>= 7;
    bytes.push(rest === 0 ? byte : byte | 0x80);
  } while (rest !== 0);
  return bytes;
}

function signed(value: number): number[] {
  const bytes: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

// Instructions are built as nested arrays by the helpers below, so the structure of the code
// (blocks, loops, ifs) shows in its indentation. Branch targets are counted outwards from the
// innermost enclosing block, as WebAssembly does; each branch names its target in a comment.
type Code = number[];
const code = (...parts: Code[]): Code => parts.flat();
const block = (...body: Code[]) => [BLOCK, VOID, ...code(...body), END];
const loop = (...body: Code[]) => [LOOP, VOID, ...code(...body), END];
const when = (condition: Code, ...body: Code[]) => [...condition, IF, VOID, ...code(...body), END];
const whenElse = (condition: Code, then: Code[], otherwise: Code[]) => [
  ...condition,
  IF,
  VOID,
  ...code(...then),
  ELSE,
  ...code(...otherwise),
  END,
];
const branch = (depth: number) => [BR, depth];
const branchIf = (condition: Code, depth: number) => [...condition, BR_IF, depth];
const get = (local: number) => [LOCAL_GET, local];
const set = (local: number, value: Code) => [...value, LOCAL_SET, local];
const tee = (local: number, value: Code) => [...value, LOCAL_TEE, local];
const constant = (value: number) => [I32_CONST, ...signed(value)];
const binary = (operator: number) => (left: Code, right: Code) => [...left, ...right, operator];
const add = binary(I32_ADD);
const subtract = binary(I32_SUB);
const and = binary(I32_AND);
const or = binary(I32_OR);
const shiftLeft = binary(I32_SHL);
const shiftRight = binary(I32_SHR_U);
const lessThan = binary(I32_LT_U);
const greaterThan = binary(I32_GT_U);
const atMost = binary(I32_LE_U);
const atLeast = binary(I32_GE_U);
const notEqual = binary(I32_NE);
const isZero = (value: Code) => [...value, I32_EQZ];
const increment = (local: number, amount: number) => set(local, add(get(local), constant(amount)));
const loadByte = (address: Code, offset: number) => [...address, I32_LOAD8_U, 0, offset];
const storeUnit = (address: Code, value: Code, offset = 0) => [
  ...address,
  ...value,
  I32_STORE16,
  1,
  offset,
];

// decode(source, length, target) -> UTF-16 units written at target, or -1 if not valid UTF-8.
const SOURCE = 0;
const LENGTH = 1;
const TARGET = 2;
const AT = 3; // next input byte
const END_AT = 4; // end of the input
const OUT = 5; // next output unit
const B0 = 6; // the bytes of one character
const B1 = 7;
const B2 = 8;
const B3 = 9;
const SCRATCH = 10; // a bitmask, then a code point
const VECTOR = 11; // sixteen input bytes
const LOCALS = [2, 8, I32, 1, V128]; // 3–10 are i32, 11 is v128

const continuationBits = (local: number, shift: number) =>
  shift === 0
    ? and(get(local), constant(0x3f))
    : shiftLeft(and(get(local), constant(0x3f)), constant(shift));
// Inside the loop, depth 0 is $next, 1 is $done and 2 is $invalid; inside an `if`, one more.
const failUnlessContinuation = (local: number, depth: number) =>
  branchIf(notEqual(and(get(local), constant(0xc0)), constant(0x80)), depth);
const failUnlessBytesLeft = (count: number, depth: number) =>
  branchIf(greaterThan(add(get(AT), constant(count)), get(END_AT)), depth);

const body = code(
  set(AT, get(SOURCE)),
  set(END_AT, add(get(SOURCE), get(LENGTH))),
  set(OUT, get(TARGET)),
  block(
    // $invalid
    block(
      // $done
      loop(
        // $next
        whenElse(
          atMost(add(get(AT), constant(16)), get(END_AT)),
          [
            // Widen sixteen bytes to UTF-16 (the target has room for the overshoot) and move
            // past those up to the first non-ASCII one, the lowest set bit of the sign mask.
            set(VECTOR, [...get(AT), ...V128_LOAD, 0, 0]),
            [...get(OUT), ...get(VECTOR), ...I16X8_EXTEND_LOW_I8X16_U, ...V128_STORE, 0, 0],
            [...get(OUT), ...get(VECTOR), ...I16X8_EXTEND_HIGH_I8X16_U, ...V128_STORE, 0, 16],
            when(
              isZero(tee(SCRATCH, [...get(VECTOR), ...I8X16_BITMASK])),
              increment(AT, 16),
              increment(OUT, 32),
              branch(2), // $next
            ),
            set(SCRATCH, [...get(SCRATCH), I32_CTZ]),
            set(AT, add(get(AT), get(SCRATCH))),
            set(OUT, add(get(OUT), add(get(SCRATCH), get(SCRATCH)))),
          ],
          [
            // Fewer than sixteen bytes left: one at a time.
            branchIf(atLeast(get(AT), get(END_AT)), 2), // $done
            when(
              lessThan(tee(B0, loadByte(get(AT), 0)), constant(0x80)),
              storeUnit(get(OUT), get(B0)),
              increment(AT, 1),
              increment(OUT, 2),
              branch(2), // $next
            ),
          ],
        ),
        // A non-ASCII byte at AT: decode one character, or fail.
        branchIf(lessThan(tee(B0, loadByte(get(AT), 0)), constant(0xc2)), 2), // $invalid
        when(
          lessThan(get(B0), constant(0xe0)),
          failUnlessBytesLeft(2, 3),
          set(B1, loadByte(get(AT), 1)),
          failUnlessContinuation(B1, 3),
          storeUnit(
            get(OUT),
            or(shiftLeft(and(get(B0), constant(0x1f)), constant(6)), continuationBits(B1, 0)),
          ),
          increment(AT, 2),
          increment(OUT, 2),
          branch(1), // $next
        ),
        when(
          lessThan(get(B0), constant(0xf0)),
          failUnlessBytesLeft(3, 3),
          set(B1, loadByte(get(AT), 1)),
          set(B2, loadByte(get(AT), 2)),
          failUnlessContinuation(B1, 3),
          failUnlessContinuation(B2, 3),
          set(
            SCRATCH,
            or(
              or(shiftLeft(and(get(B0), constant(0x0f)), constant(12)), continuationBits(B1, 6)),
              continuationBits(B2, 0),
            ),
          ),
          branchIf(lessThan(get(SCRATCH), constant(0x800)), 3), // $invalid: overlong
          branchIf(isZero(subtract(and(get(SCRATCH), constant(0xf800)), constant(0xd800))), 3), // $invalid: a surrogate
          storeUnit(get(OUT), get(SCRATCH)),
          increment(AT, 3),
          increment(OUT, 2),
          branch(1), // $next
        ),
        branchIf(atLeast(get(B0), constant(0xf5)), 2), // $invalid: past U+10FFFF
        failUnlessBytesLeft(4, 2),
        set(B1, loadByte(get(AT), 1)),
        set(B2, loadByte(get(AT), 2)),
        set(B3, loadByte(get(AT), 3)),
        failUnlessContinuation(B1, 2),
        failUnlessContinuation(B2, 2),
        failUnlessContinuation(B3, 2),
        // The code point less 0x10000, so that overlong forms wrap around past 0xfffff too.
        set(
          SCRATCH,
          subtract(
            or(
              or(shiftLeft(and(get(B0), constant(0x07)), constant(18)), continuationBits(B1, 12)),
              or(continuationBits(B2, 6), continuationBits(B3, 0)),
            ),
            constant(0x10000),
          ),
        ),
        branchIf(greaterThan(get(SCRATCH), constant(0xfffff)), 2), // $invalid
        storeUnit(get(OUT), or(shiftRight(get(SCRATCH), constant(10)), constant(0xd800))),
        storeUnit(get(OUT), or(and(get(SCRATCH), constant(0x3ff)), constant(0xdc00)), 2),
        increment(AT, 4),
        increment(OUT, 4),
        branch(0), // $next
      ),
    ),
    // $done: the number of units written.
    shiftRight(subtract(get(OUT), get(TARGET)), constant(1)),
    [RETURN],
  ),
  // $invalid
  constant(-1),
  [END],
);

const section = (id: number, content: number[]) => [id, ...unsigned(content.length), ...content];
const name = (text: string) => [text.length, ...Array.from(text, (char) => char.charCodeAt(0))];
const functionBody = [...LOCALS, ...body];
const moduleBytes = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...section(1, [1, 0x60, 3, I32, I32, I32, 1, I32]),
  ...section(3, [1, 0]),
  ...section(5, [1, 0x00, 1]), // one memory, one 64 KiB page to start
  ...section(7, [2, ...name('decode'), 0x00, 0, ...name('memory'), 0x02, 0]),
  ...section(10, [1, ...unsigned(functionBody.length), ...functionBody]),
]);

const PAGE_BYTES = 65536;
// Room past the output for the last 16-byte step's overshoot.
const SLACK_BYTES = 64;
// A WebAssembly memory never shrinks: longer inputs are left to the caller's other decoder, so
// the memory stays at about three times this.
const MAX_INPUT_BYTES = 1024 * 1024;

/** Decoded UTF-16 bytes to a string; Node's Buffer method works on any Uint8Array. */
type Slice = (this: Uint8Array, start: number, end: number) => string;

/**
 * Instantiates the decoder, or returns `null` where WebAssembly SIMD or Node's Buffer string
 * methods are missing or compiling is not allowed (callers then decode another way).
 */
export function createWasmUtf8Decoder(): WasmUtf8Decoder | null {
  const prototype = (
    globalThis as { Buffer?: { prototype: { ucs2Slice?: Slice; latin1Slice?: Slice } } }
  ).Buffer?.prototype;
  const ucs2Slice = prototype?.ucs2Slice;
  const latin1Slice = prototype?.latin1Slice;
  if (ucs2Slice === undefined || latin1Slice === undefined) return null;
  if (typeof WebAssembly !== 'object' || !WebAssembly.validate(moduleBytes)) return null;
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes));
  } catch {
    // A content security policy can forbid compiling WebAssembly: decode another way.
    return null;
  }
  const memory = instance.exports.memory as WebAssembly.Memory;
  const decodeExport = instance.exports.decode as (
    source: number,
    length: number,
    target: number,
  ) => number;
  let heap = new Uint8Array(memory.buffer);

  return {
    decode(buffer, start, end) {
      const length = end - start;
      if (length > MAX_INPUT_BYTES) return undefined;
      // Input at 0, output (two bytes a unit, at most one unit a byte) after it, 16-aligned.
      const target = (length + 15) & ~15;
      const needed = target + 2 * length + SLACK_BYTES;
      if (needed > heap.length) {
        memory.grow(Math.ceil((needed - heap.length) / PAGE_BYTES));
        heap = new Uint8Array(memory.buffer);
      }
      heap.set(buffer.subarray(start, end), 0);
      const units = decodeExport(0, length, target);
      if (units < 0) return undefined;
      // As many units as bytes means every byte was ASCII: copy those as one-byte text.
      if (units === length) return latin1Slice.call(buffer, start, end);
      return ucs2Slice.call(heap, target, target + 2 * units);
    },
  };
}
