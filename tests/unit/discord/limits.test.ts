import { describe, expect, it } from 'vitest';
import { messageLimitError } from '../../e2e/emulator.js';
import { clip, LIMITS, toDiscordEmbeds } from '../../../src/discord/limits.js';

describe('Discord limits', () => {
  it('clips text visibly', () => {
    expect(clip('short', 10)).toBe('short');
    const clipped = clip('x'.repeat(300), 256);
    expect(clipped).toHaveLength(256);
    expect(clipped.endsWith('… (truncated)')).toBe(true);
  });

  it('drops the half of an emoji that a cut left, which UTF-8 and so Discord cannot take, and keeps whole ones', () => {
    const [embed] = toDiscordEmbeds([
      {
        title: 'a\uD83D',
        description: `${'😀'.repeat(2)}\uD83D…`,
        fields: [{ name: '\uDE00b', value: 'c\uD83D\uD83D\uDE00' }],
        footer: 'd\uDE00\uD83D',
      },
    ]);
    expect([
      embed!.title,
      embed!.description,
      embed!.fields![0]!.name,
      embed!.fields![0]!.value,
      embed!.footer!.text,
    ]).toEqual(['a', '😀😀…', 'b', 'c😀', 'd']);
  });

  it('keeps any embed within every limit, noting what was left out', () => {
    const huge = toDiscordEmbeds([
      {
        title: 'T'.repeat(400),
        description: 'D'.repeat(5000),
        footer: 'F'.repeat(3000),
        fields: Array.from({ length: 40 }, (_, i) => ({
          name: `field ${i} ${'n'.repeat(300)}`,
          value: 'v'.repeat(2000),
        })),
        image: 'chart.png',
      },
    ]);
    expect(messageLimitError({ embeds: huge })).toBeUndefined();
    expect(huge[0]!.title).toHaveLength(LIMITS.title);
    expect(huge[0]!.image).toEqual({ url: 'attachment://chart.png' });
    expect(huge[0]!.fields!.length).toBeLessThanOrEqual(LIMITS.fields);
  });

  it('folds fields beyond 25 into a visible note', () => {
    const [embed] = toDiscordEmbeds([
      { title: 't', fields: Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, value: 'v' })) },
    ]);
    expect(embed!.fields).toHaveLength(25);
    expect(embed!.fields!.at(-1)!.value).toMatch(/6 more section\(s\) were left out/);
  });
});
