// Adler-32 (RFC 1950 section 8.2), the checksum that ends a zlib stream: deflate's own is not reachable when the
// stream is made of pieces deflated apart (encode.ts).
const BASE = 65521;
/** The most bytes summed before the sums must be reduced, so that they stay exact in 32 bits (zlib's NMAX). */
const RUN = 5552;

export function adler32(bytes: Uint8Array): number {
  let a = 1,
    b = 0;
  for (let start = 0; start < bytes.length; start += RUN) {
    const end = Math.min(start + RUN, bytes.length);
    for (let i = start; i < end; i++) {
      a += bytes[i]!;
      b += a;
    }
    a %= BASE;
    b %= BASE;
  }
  return ((b << 16) | a) >>> 0;
}
