/**
 * Animated GIF writing (GIF89a, https://www.w3.org/Graphics/GIF/spec-gif89a.txt): one global
 * palette, one full-size frame per image, a NETSCAPE2.0 block so viewers loop, and our own
 * variable-code-width LZW encoder (spec appendix F).
 */

/** Options of `encodeGif`. */
export interface GifOptions {
  /** Delay between frames in hundredths of a second (GIF's unit). Default 10 (10 frames per second). */
  delayCs?: number;
  /** How many times to play: 0 loops forever (the default). */
  loops?: number;
}

/** The LZW code stream of one image's palette indices, packed least-significant bit first. */
export function lzwEncode(indices: ArrayLike<number>, minCodeSize: number): Uint8Array {
  const clearCode = 1 << minCodeSize;
  const endCode = clearCode + 1;
  const out: number[] = [];
  let bitBuffer = 0;
  let bitCount = 0;
  let codeSize = minCodeSize + 1;
  const emit = (code: number) => {
    bitBuffer |= code << bitCount;
    bitCount += codeSize;
    while (bitCount >= 8) {
      out.push(bitBuffer & 0xff);
      bitBuffer >>>= 8;
      bitCount -= 8;
    }
  };
  // The dictionary maps (prefix code, next index) to a code; 4096 codes at most.
  const dict = new Map<number, number>();
  let nextCode = endCode + 1;
  emit(clearCode);
  if (indices.length === 0) {
    emit(endCode);
  } else {
    let prefix = indices[0]!;
    for (let i = 1; i < indices.length; i++) {
      const k = indices[i]!;
      const key = prefix * 4096 + k;
      const found = dict.get(key);
      if (found !== undefined) {
        prefix = found;
        continue;
      }
      emit(prefix);
      dict.set(key, nextCode);
      nextCode++;
      // The decoder adds each entry one code later than we do, so it widens its codes only once
      // the code just added no longer fits: widen when nextCode passes 2^codeSize.
      if (nextCode > 1 << codeSize && codeSize < 12) codeSize++;
      if (nextCode === 4096) {
        // The table is full: tell the decoder to start over.
        emit(clearCode);
        dict.clear();
        nextCode = endCode + 1;
        codeSize = minCodeSize + 1;
      }
      prefix = k;
    }
    emit(prefix);
    emit(endCode);
  }
  if (bitCount > 0) out.push(bitBuffer & 0xff);
  return Uint8Array.from(out);
}

/**
 * Encodes frames of palette indices (each `width * height` values, row-major) as an animated GIF
 * with one global palette of up to 256 [r, g, b] colours.
 */
export function encodeGif(
  frames: ArrayLike<number>[],
  width: number,
  height: number,
  palette: readonly (readonly [number, number, number])[],
  options: GifOptions = {},
): Uint8Array {
  const { delayCs = 10, loops = 0 } = options;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 65535 || height > 65535) {
    throw new RangeError(`encodeGif: width and height must be integers in 1..65535, got ${width} x ${height}`);
  }
  if (palette.length < 1 || palette.length > 256) throw new RangeError(`encodeGif: palette must hold 1..256 colours, got ${palette.length}`);
  if (frames.length === 0) throw new RangeError('encodeGif: no frames');
  // The global colour table holds 2^(n+1) entries; the LZW minimum code size is at least 2.
  let tableBits = 1;
  while (1 << tableBits < palette.length) tableBits++;
  const minCodeSize = Math.max(2, tableBits);
  const bytes: number[] = [];
  const u16 = (v: number) => bytes.push(v & 0xff, (v >> 8) & 0xff);
  const ascii = (s: string) => {
    for (let i = 0; i < s.length; i++) bytes.push(s.charCodeAt(i));
  };
  ascii('GIF89a');
  // Logical screen descriptor: global table present, colour resolution and table size = tableBits.
  u16(width);
  u16(height);
  bytes.push(0x80 | ((tableBits - 1) << 4) | (tableBits - 1), 0, 0);
  for (let i = 0; i < 1 << tableBits; i++) {
    const c = palette[i] ?? [0, 0, 0];
    bytes.push(c[0] & 0xff, c[1] & 0xff, c[2] & 0xff);
  }
  // Application extension: NETSCAPE2.0 looping.
  bytes.push(0x21, 0xff, 11);
  ascii('NETSCAPE2.0');
  bytes.push(3, 1);
  u16(loops);
  bytes.push(0);
  frames.forEach((frame, f) => {
    if (frame.length !== width * height) {
      throw new RangeError(`encodeGif: frame ${f} holds ${frame.length} indices, expected ${width} x ${height}`);
    }
    for (let i = 0; i < frame.length; i++) {
      const v = frame[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= palette.length) {
        throw new RangeError(`encodeGif: frame ${f} index ${i} is ${v}, outside the ${palette.length}-colour palette`);
      }
    }
    // Graphic control extension: no disposal (1 = leave in place), the delay, no transparency.
    bytes.push(0x21, 0xf9, 4, 1 << 2);
    u16(delayCs);
    bytes.push(0, 0);
    // Image descriptor: the whole screen, no local table, not interlaced.
    bytes.push(0x2c);
    u16(0);
    u16(0);
    u16(width);
    u16(height);
    bytes.push(0);
    bytes.push(minCodeSize);
    const data = lzwEncode(frame, minCodeSize);
    for (let at = 0; at < data.length; at += 255) {
      const n = Math.min(255, data.length - at);
      bytes.push(n);
      for (let i = 0; i < n; i++) bytes.push(data[at + i]!);
    }
    bytes.push(0); // block terminator
  });
  bytes.push(0x3b); // trailer
  return Uint8Array.from(bytes);
}
