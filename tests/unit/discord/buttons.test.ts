import { describe, expect, it } from 'vitest';
import { HELD_FOR_MS, HeldInputs, buttonId, followUpRow, parseButton } from '../../../src/discord/buttons.js';
import { slashCommand, type Command } from '../../../src/command/definition.js';
import { option } from '../../../src/command/options.js';

const target = slashCommand({
  name: 'saliency',
  description: 'Where it looked',
  help: { what: 'Where it looked.' },
  options: { image: option.attachment('The image', { required: true }) },
  positional: ['image'],
  execute: async () => 'ok',
  toJson: (report) => report,
  toText: (report) => report,
  toEmbeds: () => ({ embeds: [], files: [] }),
}) as Command;

const image = {
  kind: 'attachment' as const,
  url: 'https://cdn.discordapp.com/a.png',
  name: 'a.png',
  size: 10,
  contentType: 'image/png',
};

describe('buttons under results', () => {
  it('parses its own versioned custom ids and nothing else', () => {
    expect(parseButton(buttonId('saliency', 'abcdefghijklmnop'))).toEqual({
      command: 'saliency',
      key: 'abcdefghijklmnop',
    });
    for (const forged of [
      'saliency:abcdefghijklmnop',
      'sr2:saliency:abcdefghijklmnop',
      'sr1:Saliency:abcdefghijklmnop',
      'sr1:saliency:abc',
      'sr1:saliency:abcdefghijklmnop:extra',
      'sr1:../etc:abcdefghijklmnop',
      `sr1:${'a'.repeat(40)}:abcdefghijklmnop`,
    ])
      expect(parseButton(forged), forged).toBeUndefined();
  });

  it('holds only the image or the text of a reply, for 15 minutes', () => {
    let now = 0;
    const held = new HeldInputs(() => now);
    const key = held.hold('classify', { image, model: 'both', top: 5 })!;
    expect(held.get(key)).toEqual({ source: 'classify', options: { image }, heldUntil: HELD_FOR_MS });
    expect(held.hold('status', { model: 'both' })).toBeUndefined();
    now = HELD_FOR_MS - 1;
    expect(held.get(key)).toBeDefined();
    now = HELD_FOR_MS;
    expect(held.get(key)).toBeUndefined();
  });

  it('forgets the oldest input first when it holds as many as it may', () => {
    const held = new HeldInputs(() => 0, 3);
    const keys = ['a', 'b', 'c', 'd'].map((text) => held.hold('sentiment', { text })!);
    expect(held.size).toBe(3);
    expect(held.get(keys[0]!)).toBeUndefined();
    expect(held.get(keys[3]!)?.options).toEqual({ text: 'd' });
  });

  it('leaves out a button whose command this bot does not have', () => {
    const commands = new Map([['saliency', target]]);
    const row = followUpRow(
      [
        { label: 'Where did it look?', command: 'saliency' },
        { label: 'Stress test', command: 'stress' },
      ],
      commands,
      'abcdefghijklmnop',
    );
    expect(row?.components.map((button) => ('custom_id' in button ? button.custom_id : ''))).toEqual([
      'sr1:saliency:abcdefghijklmnop',
    ]);
    expect(followUpRow([{ label: 'Stress test', command: 'stress' }], commands, 'abcdefghijklmnop')).toBeUndefined();
  });
});
