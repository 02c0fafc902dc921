import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * A quiz answer button's custom_id: `sr1q:<round>:<choice>`, its own versioned layout, apart from
 * the `sr1:` buttons that run a command again. custom_id comes back from Discord as
 * user-controlled data: it is parsed strictly, and names only a random round id and a short
 * choice id, which the store then checks against the round (its server, its choices).
 */
const VERSION = 'sr1q';
const ROUND = /^[A-Za-z0-9_-]{16}$/;
const CHOICE = /^[a-z0-9-]{1,16}$/;

const customId = z
  .string()
  .max(100)
  .regex(/^sr1q:[A-Za-z0-9_-]{16}:[a-z0-9-]{1,16}$/, 'is not a sightread quiz button')
  .transform((id) => {
    const [, round, choice] = id.split(':') as [string, string, string];
    return { round, choice };
  });

export type QuizButton = z.output<typeof customId>;

/** The round and choice a button names, or undefined for anything that is not a quiz answer (of this version). */
export function parseQuizButton(id: string): QuizButton | undefined {
  const parsed = customId.safeParse(id);
  return parsed.success ? parsed.data : undefined;
}

export function quizButtonId(round: string, choice: string): string {
  if (!ROUND.test(round) || !CHOICE.test(choice)) throw new Error(`not a quiz button: ${round}:${choice}`);
  return `${VERSION}:${round}:${choice}`;
}

/** A new round id: 12 random bytes, 16 characters of base64url. */
export const newRoundId = (): string => randomBytes(12).toString('base64url');
