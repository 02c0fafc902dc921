import { describe, expect, it } from 'vitest';
import { isSrgbProfile } from '../../../src/vision/icc.js';

/** A minimal ICC profile: header, one 'desc' tag of type 'mluc' holding `text` as UTF-16BE. */
function profile(text: string, options: { colourSpace?: string; declaredLength?: number } = {}): Buffer {
  const utf16 = Buffer.from(text, 'utf16le').swap16();
  const tagOffset = 144;
  const tag = Buffer.alloc(28 + utf16.length);
  tag.write('mluc', 0, 'latin1');
  tag.writeUInt32BE(1, 8);
  tag.writeUInt32BE(12, 12);
  tag.write('enUS', 16, 'latin1');
  tag.writeUInt32BE(options.declaredLength ?? utf16.length, 20);
  tag.writeUInt32BE(28, 24);
  utf16.copy(tag, 28);
  const header = Buffer.alloc(tagOffset);
  header.write(options.colourSpace ?? 'RGB ', 16, 'latin1');
  header.write('acsp', 36, 'latin1');
  header.writeUInt32BE(1, 128);
  header.write('desc', 132, 'latin1');
  header.writeUInt32BE(tagOffset, 136);
  header.writeUInt32BE(tag.length, 140);
  return Buffer.concat([header, tag]);
}

describe('ICC profile recognition', () => {
  it('recognises an RGB profile that names sRGB, and nothing else', () => {
    expect(isSrgbProfile(profile('sRGB IEC61966-2.1'))).toBe(true);
    expect(isSrgbProfile(profile('Display P3'))).toBe(false);
    expect(isSrgbProfile(profile('sRGB', { colourSpace: 'CMYK' }))).toBe(false);
  });

  it('answers false for truncated or malformed profiles instead of throwing', () => {
    const good = profile('sRGB IEC61966-2.1');
    for (const broken of [
      Buffer.alloc(0),
      good.subarray(0, 100),
      good.subarray(0, 150),
      profile('sRGB IEC61966-2.1', { declaredLength: 9999 }),
    ]) {
      expect(isSrgbProfile(broken)).toBe(false);
    }
    // An odd UTF-16 length is cut to whole characters rather than failing the decode.
    expect(isSrgbProfile(profile('sRGB x', { declaredLength: 9 }))).toBe(true);
  });
});
