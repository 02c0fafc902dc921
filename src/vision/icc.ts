/**
 * Just enough ICC parsing to recognise an embedded sRGB profile. Converting an sRGB image
 * "to sRGB" is an identity that still costs a full colour transform (about half the decode
 * time of a typical camera JPEG, measured in `npm run bench`), so such profiles can be ignored.
 */

const ascii = (icc: Buffer, offset: number, length: number): string => icc.toString('latin1', offset, offset + length);

/** The profile's description ('desc' tag, ICC v2 text or v4 multi-localised), if it can be read. */
function iccDescription(icc: Buffer): string | undefined {
  if (icc.length < 132 || ascii(icc, 36, 4) !== 'acsp') return undefined;
  const tags = icc.readUInt32BE(128);
  for (let index = 0; index < tags && 132 + index * 12 + 12 <= icc.length; index += 1) {
    const entry = 132 + index * 12;
    if (ascii(icc, entry, 4) !== 'desc') continue;
    const offset = icc.readUInt32BE(entry + 4);
    const size = icc.readUInt32BE(entry + 8);
    if (offset + size > icc.length || size < 12) return undefined;
    const type = ascii(icc, offset, 4);
    if (type === 'desc') {
      const length = Math.min(icc.readUInt32BE(offset + 8), size - 12);
      return ascii(icc, offset + 12, length).replace(/\0+$/, '');
    }
    if (type === 'mluc' && size >= 28) {
      const length = icc.readUInt32BE(offset + 20);
      const start = offset + icc.readUInt32BE(offset + 24);
      if (start + length > offset + size) return undefined;
      // UTF-16BE: swap to the little-endian order Node decodes (an odd length from a broken profile is cut).
      const text = Buffer.from(icc.subarray(start, start + (length & ~1)));
      return text.swap16().toString('utf16le').replace(/\0+$/, '');
    }
    return undefined;
  }
  return undefined;
}

/** True for an RGB display profile whose description names sRGB (IEC 61966-2.1 and its common variants). */
export function isSrgbProfile(icc: Buffer): boolean {
  if (icc.length < 132 || ascii(icc, 16, 4) !== 'RGB ') return false;
  return /\bsRGB\b/i.test(iccDescription(icc) ?? '');
}
