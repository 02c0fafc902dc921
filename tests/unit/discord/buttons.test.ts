import { describe, expect, it } from 'vitest';
import {
  HELD_FOR_MS,
  HeldInputs,
  buttonId,
  earlierRunMessage,
  followUpRow,
  messageLink,
  parseButton,
} from '../../../src/discord/buttons.js';
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
    expect(held.get(key)).toEqual({ source: 'classify', options: { image }, heldUntil: HELD_FOR_MS, runs: new Map() });
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

  it('runs each follow-up once per reply: a later press learns whose run it is, then where its answer is', () => {
    let now = 1_000;
    const held = new HeldInputs(() => now);
    const key = held.hold('classify', { image })!;
    const other = held.hold('classify', { image })!;
    const first = held.claimFollowUp(key, 'stress', 'ada', 'i1');
    expect('claim' in first).toBe(true);
    expect(held.earlierRun(key, 'stress')).toMatchObject({ state: 'running', userId: 'ada' });
    expect(held.earlierRun(key, 'mask')).toBeUndefined();
    now = 2_000;
    expect(held.claimFollowUp(key, 'stress', 'bob', 'i2')).toEqual({
      earlier: { state: 'running', userId: 'ada', interactionId: 'i1', since: 1_000 },
    });
    // Another button under the same reply, and the same button under another reply, run on their own.
    expect('claim' in held.claimFollowUp(key, 'mask', 'bob', 'i3')).toBe(true);
    expect('claim' in held.claimFollowUp(other, 'stress', 'bob', 'i4')).toBe(true);
    if (!('claim' in first)) throw new Error('unreachable');
    now = 3_000;
    first.claim.answered('https://discord.com/channels/1/2/3');
    first.claim.release();
    expect(held.claimFollowUp(key, 'stress', 'cy', 'i5')).toEqual({
      earlier: {
        state: 'answered',
        userId: 'ada',
        interactionId: 'i1',
        at: 3_000,
        messageUrl: 'https://discord.com/channels/1/2/3',
      },
    });
  });

  it('lets the next press run a follow-up whose run ended without a public answer', () => {
    const held = new HeldInputs(() => 0);
    const key = held.hold('sentiment', { text: 'fine' })!;
    const failed = held.claimFollowUp(key, 'mask-text', 'ada', 'i6');
    if (!('claim' in failed)) throw new Error('the first press runs');
    failed.claim.release();
    failed.claim.answered(undefined);
    const retried = held.claimFollowUp(key, 'mask-text', 'bob', 'i7');
    expect('claim' in retried).toBe(true);
    // A settled claim no longer touches the run that replaced it.
    failed.claim.release();
    expect(held.claimFollowUp(key, 'mask-text', 'cy', 'i8')).toMatchObject({
      earlier: { state: 'running', userId: 'bob' },
    });
    // An input no longer held has no runs to share: the press runs.
    expect('claim' in held.claimFollowUp('abcdefghijklmnop', 'stress', 'ada', 'i9')).toBe(true);
  });

  it('links to the message an answer went out as, from a discord.js Message or the API object', () => {
    class Message {
      constructor(readonly id: string) {}
    }
    const [guild, channel, message] = ['200000000000000002', '300000000000000003', '400000000000000004'];
    expect(messageLink(guild, channel, new Message(message))).toBe(
      `https://discord.com/channels/${guild}/${channel}/${message}`,
    );
    expect(messageLink(null, channel, { id: message, channel_id: channel })).toBe(
      `https://discord.com/channels/@me/${channel}/${message}`,
    );
    for (const sent of [undefined, null, {}, { id: Number(message) }, { id: '../x' }, { id: '333' }, 'text'])
      expect(messageLink(guild, channel, sent), JSON.stringify(sent)).toBeUndefined();
    expect(messageLink(guild, null, { id: message })).toBeUndefined();
    expect(messageLink(guild, '../x', { id: message })).toBeUndefined();
  });

  it('tells a later presser whose run it is, when, and where the answer is, without pinging anyone', () => {
    const running = earlierRunMessage(
      'Stress test',
      { state: 'running', userId: '42', interactionId: '9', since: 1_700_000_000_500 },
      '7',
    );
    expect(running).toContain('*Stress test*');
    expect(running).toContain('already running for <@42> (pressed <t:1700000000:R>)');
    expect(running).toContain('if it does not, press the button again');
    const answered = {
      state: 'answered' as const,
      userId: '42',
      interactionId: '9',
      at: 1_700_000_060_000,
      messageUrl: 'https://discord.com/channels/1/2/3',
    };
    expect(earlierRunMessage('Stress test', answered, '7')).toContain(
      'was answered for <@42> <t:1700000060:R>: https://discord.com/channels/1/2/3.',
    );
    expect(earlierRunMessage('Stress test', answered, '42')).toContain('was answered for you');
    expect(earlierRunMessage('Stress test', { ...answered, messageUrl: undefined }, '7')).toContain(
      'just above, in this channel',
    );
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
