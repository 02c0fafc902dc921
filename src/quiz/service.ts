import sharp from 'sharp';
import {
  explainClassification,
  explainMatch,
  explainSentiment,
  explainTokenization,
} from '../knowledge/explanations.js';
import { prepareText } from '../text/input.js';
import type { TextService, TokenizerName } from '../text/service.js';
import { TOKENIZER_NAMES } from '../text/service.js';
import type { Tokenization } from '../text/tokenizers.js';
import type { Clock } from '../util/clock.js';
import { describeError, isUserFacing, UserFacingError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { quoteUserText } from '../util/user-text.js';
import type { VisionService } from '../vision/service.js';
import { BUILT_IN_IMAGES, CLIP_LABELS, QUIZ_SENTENCES, readBuiltInImage } from './content.js';
import { newRoundId } from './ids.js';
import type { ScoredAnswer } from './scoring.js';
import {
  QUIZ_KINDS,
  type Leaderboard,
  type QuestionView,
  type QuizChoice,
  type QuizKind,
  type QuizStore,
  type RevealedRound,
  type RoundContent,
} from './store.js';

export { QUIZ_KINDS, type QuizKind };

/** An image a round is asked on: an upload (bytes not yet trusted) or a built-in one. */
export interface QuizImage {
  name: string;
  bytes: Buffer;
}

export interface StartRequest {
  kind: QuizKind | undefined;
  image: QuizImage | undefined;
  text: string | undefined;
  guildId: string;
  channelId: string | null;
  userId: string | null;
  /** The interaction the question is posted through; without one (the CLI) the answer is shown at once. */
  reply: { applicationId: string; token: string } | undefined;
}

/** A round as posted: its content, the picture it shows, and, when it is live, its id and deadline. */
export interface RoundReport {
  id: string | undefined;
  content: RoundContent;
  image: { name: string; bytes: Buffer } | undefined;
  deadline: number | undefined;
  seconds: number;
}

/** The reveal as the channel sees it. */
export interface RevealView extends QuestionView {
  footer: string;
}

export interface QuizServiceOptions {
  store: QuizStore | undefined;
  vision: VisionService;
  text: TextService;
  roundSeconds: number;
  textMaxChars: number;
  clock: Clock;
  logger: Logger;
  random?: () => number;
}

/** Revealed rounds are kept this long (their answers too), then purged; the board keeps the points. */
export const REVEALED_RETENTION_MS = 24 * 60 * 60_000;
/** The file name the question's picture is attached under. */
const IMAGE_FILE = 'quiz.jpg';
const TOKENIZER_LABELS: Record<TokenizerName, string> = {
  bert: 'BERT WordPiece',
  gpt2: 'GPT-2 BPE',
  clip: 'CLIP BPE',
};
const percent = (value: number): string => `${(value * 100).toFixed(1)}%`;
const MAX_PIECES = 40;

function unavailable(kind: QuizKind, why: string): UserFacingError {
  return new UserFacingError(`The ${kind} round cannot run here: ${why}`, { code: 'quiz_unavailable' });
}

/**
 * /quiz: rounds the whole channel answers with buttons. Each question is made from what the real
 * models say about a real input (never a made-up result); a live round is held in the database
 * with the interaction's token, and revealed when its deadline passes: by this process's timer,
 * or after a restart by the minute chore.
 */
export class QuizService {
  private readonly random: () => number;
  private timer: { at: number; cancel: () => void } | undefined;
  private revealer: ((round: RevealedRound) => Promise<void>) | undefined;
  private revealing: Promise<number> | undefined;
  private closed = false;

  constructor(private readonly options: QuizServiceOptions) {
    this.random = options.random ?? Math.random;
  }

  get roundSeconds(): number {
    return this.options.roundSeconds;
  }

  private get store(): QuizStore {
    if (!this.options.store) {
      throw new UserFacingError(
        '/quiz keeps rounds and scores in the database (DATA_DIR or DATABASE_URL), and this process has none open.',
        { code: 'no_database' },
      );
    }
    return this.options.store;
  }

  /** Makes a question from the models' real answers; when it goes to a channel, holds it as a live round. */
  async start(request: StartRequest): Promise<RoundReport> {
    // Checked before any model runs: a live round needs somewhere to be held.
    const store = request.reply ? this.store : undefined;
    const { content, image } = await this.build(request);
    if (!request.reply || !store) return { id: undefined, content, image, deadline: undefined, seconds: 0 };
    const startedAt = this.options.clock.now();
    const deadline = startedAt + this.options.roundSeconds * 1000;
    const id = newRoundId();
    await store.createRound({
      ...content,
      id,
      guildId: request.guildId,
      channelId: request.channelId,
      startedBy: request.userId,
      startedAt,
      deadline,
      applicationId: request.reply.applicationId,
      token: request.reply.token,
    });
    this.schedule(deadline);
    return { id, content, image, deadline, seconds: this.options.roundSeconds };
  }

  /** A member's press, timed on the service's clock. */
  answer(press: { roundId: string; guildId: string; userId: string; choice: string }) {
    return this.store.answer({ ...press, now: this.options.clock.now() });
  }

  scores(guildId: string, userId: string | undefined): Promise<Leaderboard> {
    return this.store.leaderboard(guildId, userId);
  }

  /** Who shows a revealed round (the Discord front end); rounds are revealed only once one is set. */
  onReveal(revealer: (round: RevealedRound) => Promise<void>): void {
    this.revealer = revealer;
  }

  /**
   * Reveals every round whose deadline has passed (scores added, token cleared) and hands each to
   * the revealer; then sets the timer for the next deadline. One run at a time; returns how many.
   */
  revealDue(): Promise<number> {
    this.revealing ??= this.revealNow().finally(() => (this.revealing = undefined));
    return this.revealing;
  }

  private async revealNow(): Promise<number> {
    const { store, clock, logger } = this.options;
    const revealer = this.revealer;
    if (!store || !revealer || this.closed) return 0;
    let revealed = 0;
    for (const id of await store.dueRounds(clock.now())) {
      const round = await store.reveal(id, clock.now());
      if (!round) continue;
      revealed += 1;
      await revealer(round).catch((error: unknown) =>
        logger.warn({ err: error, round: id }, 'could not show the reveal of a quiz round'),
      );
    }
    await store.purgeRevealed(clock.now() - REVEALED_RETENTION_MS);
    const next = await store.nextDeadline();
    if (next !== undefined) this.schedule(next);
    return revealed;
  }

  /** The timer fires at the earliest deadline this process knows of. */
  private schedule(at: number): void {
    if (this.closed || (this.timer && this.timer.at <= at)) return;
    this.timer?.cancel();
    const { clock, logger } = this.options;
    const cancel = clock.setTimer(
      () => {
        this.timer = undefined;
        void this.revealDue().catch((error: unknown) =>
          logger.warn({ err: error }, 'quiz reveal failed; the chore tries again'),
        );
      },
      Math.max(0, at - clock.now()),
    );
    this.timer = { at, cancel };
  }

  /** Stops the timer (shutdown): rounds left open are revealed by the next start's chore. */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private async build(request: StartRequest): Promise<{ content: RoundContent; image: RoundReport['image'] }> {
    if (request.kind) return this.buildKind(request.kind, request);
    // No kind asked: a random one of those the input suits, skipping kinds whose models are missing.
    const suited = QUIZ_KINDS.filter((kind) =>
      request.image
        ? kind === 'model' || kind === 'clip'
        : request.text
          ? kind === 'tokenizer' || kind === 'agree'
          : true,
    );
    const order = this.shuffle(suited);
    const reasons: string[] = [];
    for (const kind of order) {
      try {
        return await this.buildKind(kind, request);
      } catch (error) {
        if (!isUserFacing(error) || (error.code !== 'quiz_unavailable' && error.kind !== 'model')) throw error;
        reasons.push(error.message);
      }
    }
    throw new UserFacingError(`No quiz round can run here. ${reasons.join(' ')}`, { code: 'quiz_unavailable' });
  }

  private async buildKind(
    kind: QuizKind,
    request: StartRequest,
  ): Promise<{ content: RoundContent; image: RoundReport['image'] }> {
    switch (kind) {
      case 'model':
        return this.modelRound(request.image);
      case 'clip':
        return this.clipRound(request.image);
      case 'tokenizer':
        return { content: await this.tokenizerRound(this.sentence(request.text)), image: undefined };
      case 'agree':
        return { content: await this.agreeRound(this.sentence(request.text)), image: undefined };
    }
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] ?? items[0]!;
  }

  private shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = Math.floor(this.random() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }

  private sentence(text: string | undefined): string {
    if (text === undefined) return this.pick(QUIZ_SENTENCES);
    return prepareText(text, this.options.textMaxChars).text;
  }

  /** The upload, or a built-in image with its label. */
  private async picture(image: QuizImage | undefined): Promise<{ bytes: Buffer; label: string | undefined }> {
    if (image) return { bytes: image.bytes, label: undefined };
    const builtIn = this.pick(BUILT_IN_IMAGES);
    return { bytes: await readBuiltInImage(builtIn), label: builtIn.label };
  }

  /** The picture as the question shows it: small, EXIF orientation applied, as JPEG. */
  private async shown(bytes: Buffer): Promise<RoundReport['image']> {
    const data = await sharp(bytes)
      .rotate()
      .resize({ width: 480, height: 480, fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 80 })
      .toBuffer();
    return { name: IMAGE_FILE, bytes: data };
  }

  private async modelRound(image: QuizImage | undefined) {
    const { vision } = this.options;
    const picture = await this.picture(image);
    const outcome = await vision.classify(picture.bytes, 'both', 5);
    const cnn = outcome.results.find((result) => result.model.id === vision.modelIds.cnn);
    const vit = outcome.results.find((result) => result.model.id === vision.modelIds.vit);
    if (!cnn || !vit) {
      throw unavailable(
        'model',
        `it needs both the CNN and the ViT. ${outcome.unavailable.map((entry) => `${entry.model}: ${entry.reason}`).join(' ')}`,
      );
    }
    const aIsCnn = this.random() < 0.5;
    const [a, b] = aIsCnn ? [cnn, vit] : [vit, cnn];
    const list = (result: typeof cnn): string =>
      result.predictions
        .map((prediction, index) => `${index + 1}. ${prediction.label} — ${percent(prediction.score)}`)
        .join('\n');
    const choices: QuizChoice[] = [
      { id: 'a-cnn', label: 'A is the CNN' },
      { id: 'a-vit', label: 'A is the ViT' },
    ];
    const top1 = (result: typeof cnn): string => result.predictions[0]?.label ?? '—';
    const content: RoundContent = {
      kind: 'model',
      question: {
        title: 'Which model said this: the CNN or the ViT?',
        description:
          'Two image classifiers read this picture: a CNN (convolutions over pixels) and a Vision Transformer (attention over 16×16 patches). Which list is the CNN’s?',
        fields: [
          { name: 'List A', value: list(a), inline: true },
          { name: 'List B', value: list(b), inline: true },
        ],
        image: IMAGE_FILE,
      },
      choices,
      correct: aIsCnn ? 'a-cnn' : 'a-vit',
      answer: `List A was the ${aIsCnn ? 'CNN' : 'ViT'} (${a.model.id}), list B the ${aIsCnn ? 'ViT' : 'CNN'} (${b.model.id}). Top-1: CNN “${top1(cnn)}”, ViT “${top1(vit)}”${outcome.agreement ? (outcome.agreement.top1Agrees ? ' (they agree).' : ' (they disagree).') : '.'}`,
      note: explainClassification(outcome),
    };
    return { content, image: await this.shown(picture.bytes) };
  }

  private async clipRound(image: QuizImage | undefined) {
    const picture = await this.picture(image);
    const others = this.shuffle(CLIP_LABELS.filter((label) => label !== picture.label));
    const labels = this.shuffle(picture.label ? [picture.label, ...others.slice(0, 3)] : others.slice(0, 4));
    let result;
    try {
      result = await this.options.vision.match(picture.bytes, labels);
    } catch (error) {
      if (isUserFacing(error) && error.kind === 'model')
        throw unavailable('clip', `CLIP is not installed (${error.message})`);
      throw error;
    }
    const top = result.matches[0];
    if (!top) throw new Error('CLIP returned no match');
    const choices = labels.map((label, index): QuizChoice => ({ id: `l${index}`, label }));
    const content: RoundContent = {
      kind: 'clip',
      question: {
        title: 'Which of these labels will CLIP pick?',
        description:
          'CLIP scores the picture against each label (as “a photo of …”) in one shared embedding space, with no training on these labels. Which one will it rank first?',
        fields: [{ name: 'Labels', value: labels.map((label) => `• ${label}`).join('\n') }],
        image: IMAGE_FILE,
      },
      choices,
      correct: choices.find((choice) => choice.label === top.label)?.id ?? 'l0',
      answer: `CLIP (${result.model.id}) ranked: ${result.matches.map((match) => `${match.label} ${percent(match.score)}`).join(', ')}.`,
      note: explainMatch(result),
    };
    return { content, image: await this.shown(picture.bytes) };
  }

  private async tokenizerRound(sentence: string): Promise<RoundContent> {
    const tried = await Promise.all(
      TOKENIZER_NAMES.map(async (name) => {
        try {
          const [result] = await this.options.text.tokenize(sentence, [name]);
          return result ? { name, result } : undefined;
        } catch (error) {
          if (!isUserFacing(error)) throw error;
          this.options.logger.info(
            { tokenizer: name, reason: describeError(error) },
            'tokenizer unavailable for /quiz',
          );
          return undefined;
        }
      }),
    );
    const available = tried.filter((entry): entry is { name: TokenizerName; result: Tokenization } => !!entry);
    if (available.length < 2)
      throw unavailable(
        'tokenizer',
        'it needs at least two of the BERT, GPT-2 and CLIP tokenizers, and fewer are installed.',
      );
    const chosen = this.pick(available);
    const pieces = chosen.result.tokens.filter((token) => !token.special).map((token) => token.piece);
    const shown = pieces
      .slice(0, MAX_PIECES)
      .map((piece) => quoteUserText(piece, 'code'))
      .join(' ');
    return {
      kind: 'tokenizer',
      question: {
        title: 'Which tokenizer cut the sentence like this?',
        description: `Sentence: ${quoteUserText(sentence)}`,
        fields: [
          {
            name: `${pieces.length} pieces (special tokens left out)`,
            value: pieces.length > MAX_PIECES ? `${shown} … (+${pieces.length - MAX_PIECES} more)` : shown || '—',
          },
        ],
      },
      choices: available.map(({ name }) => ({ id: name, label: TOKENIZER_LABELS[name] })),
      correct: chosen.name,
      answer: `${TOKENIZER_LABELS[chosen.name]} (${chosen.result.tokenizer}, ${chosen.result.algorithm}) cut it. Pieces each made: ${available
        .map(({ name, result }) => `${TOKENIZER_LABELS[name]} ${result.count - result.specialCount}`)
        .join(', ')}.`,
      note: explainTokenization([chosen.result]),
    };
  }

  private async agreeRound(sentence: string): Promise<RoundContent> {
    const report = await this.options.text.sentiment(sentence);
    const { transformer, vader } = report;
    if (!('label' in transformer) || !report.comparison)
      throw unavailable(
        'agree',
        `it needs the sentiment transformer. ${'unavailable' in transformer ? transformer.unavailable : ''}`,
      );
    const agree = report.comparison.agree;
    return {
      kind: 'agree',
      question: {
        title: 'Will VADER and the transformer agree?',
        description: `Sentence: ${quoteUserText(sentence)}\n\nVADER scores words from a lexicon with hand-written rules; the transformer (${transformer.model.id}) learned from labelled reviews. Will they give it the same label?`,
        fields: [],
      },
      choices: [
        { id: 'yes', label: 'Yes, they agree' },
        { id: 'no', label: 'No, they disagree' },
      ],
      correct: agree ? 'yes' : 'no',
      answer: `VADER: ${vader.label} (compound ${vader.compound.toFixed(3)}); transformer: ${transformer.label.toLowerCase()} (${percent(transformer.score)}). They ${agree ? 'agree' : 'disagree'}.${report.comparison.reason ? ` ${report.comparison.reason}` : ''}`,
      note: explainSentiment(report),
    };
  }
}

const mention = (userId: string): string => `<@${userId}>`;

function answerLine(answer: ScoredAnswer, labels: ReadonlyMap<string, string>): string {
  const points = answer.points > 0 ? ` +${answer.points}${answer.fastest ? ' (first right answer)' : ''}` : '';
  return `${mention(answer.userId)}: ${labels.get(answer.choice) ?? answer.choice}${points}`;
}

/** What the question message becomes at the end of its round: the answer, who got it, the note it teaches. */
export function revealView(revealed: Pick<RevealedRound, 'round' | 'scored'>): RevealView {
  const { round, scored } = revealed;
  const labels = new Map(round.choices.map((choice) => [choice.id, choice.label]));
  const right = scored.filter((answer) => answer.correct);
  const wrong = scored.filter((answer) => !answer.correct);
  const list = (answers: ScoredAnswer[]): string =>
    answers.length ? answers.map((answer) => answerLine(answer, labels)).join('\n') : 'nobody';
  return {
    title: `${round.question.title} — answer`,
    description: `${round.question.description}\n\n**Answer: ${labels.get(round.correct) ?? round.correct}.** ${round.answer}`,
    fields: [
      ...round.question.fields,
      { name: `Right (${right.length})`, value: list(right) },
      { name: `Wrong (${wrong.length})`, value: list(wrong) },
      { name: `📘 ${round.note.title}`, value: round.note.text },
    ],
    image: round.question.image,
    footer: `Round over: ${scored.length} answered. /quiz kind:scores shows the board.`,
  };
}
