"""Writes test/fixtures/rl-png.json: small PNG files encoded independently of our TypeScript writer.

Each image is filtered row by row with the five PNG filter types in turn (None, Sub, Up, Average,
Paeth; PNG spec section 9), so test/rl-render.test.ts checks that src/io/png.ts undoes every filter.
Run: /usr/bin/python3 tools/reference/rl_png_fixture.py
"""
import base64
import json
import random
import struct
import zlib


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def encode(pixels, width, height, channels):
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    stride = width * channels
    raw = bytearray()
    for y in range(height):
        ftype = y % 5
        row = pixels[y * stride:(y + 1) * stride]
        prev = pixels[(y - 1) * stride:y * stride] if y > 0 else [0] * stride
        raw.append(ftype)
        for i in range(stride):
            a = row[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ftype]
            raw.append((row[i] - pred) & 0xFF)

    def chunk(kind, data):
        body = kind + data
        return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body) & 0xFFFFFFFF)

    ihdr = struct.pack('>IIBBBBB', width, height, 8, color_type, 0, 0, 0)
    # Split the compressed data over two IDAT chunks, which readers must concatenate.
    z = zlib.compress(bytes(raw), 9)
    half = len(z) // 2
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', z[:half])
            + chunk(b'IDAT', z[half:]) + chunk(b'IEND', b''))


def main():
    rng = random.Random(0)
    cases = []
    for width, height, channels in [(7, 10, 3), (5, 6, 4), (9, 5, 1), (4, 5, 2)]:
        pixels = [rng.randrange(256) for _ in range(width * height * channels)]
        png = encode(pixels, width, height, channels)
        cases.append({'width': width, 'height': height, 'channels': channels,
                      'png': base64.b64encode(png).decode(), 'pixels': pixels})
    # CRC-32 of the standard check string "123456789" (zlib.crc32 as the reference).
    check = zlib.crc32(b'123456789') & 0xFFFFFFFF
    with open('test/fixtures/rl-png.json', 'w') as f:
        json.dump({'cases': cases, 'crc32_123456789': check}, f)


if __name__ == '__main__':
    main()
