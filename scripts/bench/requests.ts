import { join } from 'node:path';
import { finalEdit, until } from '../../tests/e2e/bot-process.js';
import type { DiscordEmulator, InteractionRecord } from '../../tests/e2e/emulator.js';

/**
 * What the Discord benches send: /sentiment and /classify from a new member each time (so no
 * cooldown applies), optionally in a given server, and when each was answered.
 */
export function requests(image: Buffer, firstMember: bigint) {
  let members = 0;
  const member = (): string => String(firstMember + BigInt((members += 1)));
  /** A slash command whose only option is the image (/classify and the lab's /saliency, /stress, /mask). */
  function imageCommand(emulator: DiscordEmulator, name: string, guildId?: string): InteractionRecord {
    const attachment = emulator.attachment(`photo-${members}.jpg`, 'image/jpeg', image);
    return emulator.interact(
      {
        name,
        type: 1,
        options: [{ name: 'image', type: 11, value: attachment.id }],
        resolved: { attachments: { [attachment.id]: attachment } },
      },
      { userId: member(), ...(guildId ? { guildId } : {}) },
    );
  }
  return {
    member,
    sentiment(emulator: DiscordEmulator, text: string, guildId?: string): InteractionRecord {
      return emulator.interact(
        { name: 'sentiment', type: 1, options: [{ name: 'text', type: 3, value: text }] },
        { userId: member(), ...(guildId ? { guildId } : {}) },
      );
    },
    classify: (emulator: DiscordEmulator, guildId?: string): InteractionRecord =>
      imageCommand(emulator, 'classify', guildId),
    imageCommand,
  };
}

/** ms from the interaction's creation to its answer (the result, or a private error). */
export const answeredAt = (record: InteractionRecord): number =>
  (finalEdit(record)?.at ?? record.followUps[0]?.at ?? Number.NaN) - record.createdAt;

/** Resolves once every record has its answer (the result, or a private error). */
export async function answered(records: InteractionRecord[], what: string): Promise<void> {
  await until(
    () => records.every((record) => finalEdit(record) || record.followUps.length > 0) || undefined,
    300_000,
    what,
  );
}

/**
 * The environment of a bot the Discord benches start: the benchmark models (`make_models.py`),
 * no cooldown, and info logs (startBot waits for the line that says the bot is ready).
 */
export const benchBotEnv = (benchDir: string, extra: Record<string, string> = {}): Record<string, string> => ({
  MODELS_MANIFEST: join(benchDir, 'manifest.json'),
  MODELS_DIR: join(benchDir, '.lock'),
  VISION_CNN_MODEL: 'resnet-50',
  VISION_VIT_MODEL: 'vit-base-patch16-224',
  CLIP_MODEL: 'clip-vit-base-patch32',
  SENTIMENT_MODEL: 'distilbert-sst2',
  COOLDOWN_SECONDS: '0',
  LOG_LEVEL: 'info',
  ...extra,
});

/**
 * The emulator's clock for the benches: milliseconds with a fraction (Date.now stamps whole
 * milliseconds, which is 8–11% of a 9–12 ms /sentiment answer).
 */
export const preciseClock = (): number => performance.timeOrigin + performance.now();
