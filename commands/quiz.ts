import { slashCommand, type EmbedSpec } from '../src/command/definition.js';
import { option } from '../src/command/options.js';
import { quizButtonId } from '../src/quiz/ids.js';
import { POINTS } from '../src/quiz/scoring.js';
import { QUIZ_KINDS, revealView, type RoundReport } from '../src/quiz/service.js';
import type { Leaderboard } from '../src/quiz/store.js';
import { UserFacingError } from '../src/util/errors.js';

export type QuizReport = ({ action: 'round' } & RoundReport) | { action: 'scores'; board: Leaderboard };

const KIND_CHOICES = [
  { name: 'Which model said this: CNN or ViT?', value: 'model' },
  { name: 'Which tokenizer cut the sentence like this?', value: 'tokenizer' },
  { name: 'Will VADER and the transformer agree?', value: 'agree' },
  { name: 'Which label will CLIP pick?', value: 'clip' },
  { name: "The server's leaderboard", value: 'scores' },
];

const SCORING = `Scoring: a right answer ${POINTS.correct} point, the first right answer of a round ${POINTS.fastest} more; one answer per member per round.`;

const mention = (userId: string): string => `<@${userId}>`;

function boardText(board: Leaderboard, mentions: boolean): string {
  if (board.players === 0) return 'No quiz points in this server yet: start a round with /quiz.';
  const who = (userId: string): string => (mentions ? mention(userId) : userId);
  const lines = board.top.map(
    (entry) => `${entry.rank}. ${who(entry.userId)}: ${entry.points} points in ${entry.answered} rounds`,
  );
  const own = board.own
    ? `Your rank: ${board.own.rank} of ${board.players} (${board.own.points} points in ${board.own.answered} rounds).`
    : 'You have not answered a round yet.';
  return [...lines, '', own, SCORING].join('\n');
}

function roundText(report: RoundReport): string {
  const { content } = report;
  const labels = new Map(content.choices.map((choice) => [choice.id, choice.label]));
  return [
    content.question.title,
    content.question.description,
    ...content.question.fields.map((field) => `${field.name}:\n${field.value}`),
    `Choices: ${content.choices.map((choice) => choice.label).join(' | ')}`,
    `Answer: ${labels.get(content.correct) ?? content.correct}. ${content.answer}`,
    `${content.note.title}: ${content.note.text}`,
  ].join('\n\n');
}

export default slashCommand({
  name: 'quiz',
  description: 'A round for the whole channel: guess what the models will do, then see the answer',
  help: {
    what: 'A round the whole channel answers with buttons (CNN or ViT? which tokenizer? will VADER and the transformer agree? which label will CLIP pick?), then the answer with the note it teaches; kind:scores shows the leaderboard.',
    example: { kind: 'model' },
  },
  options: {
    kind: option.string('What to guess (default: a random kind), or scores for the leaderboard', {
      choices: KIND_CHOICES,
    }),
    image: option.attachment('Your own picture for a model or CLIP round (default: a built-in one)', {
      required: false,
    }),
    text: option.string('Your own sentence for a tokenizer or agree round (default: a built-in one)', {
      maxLength: 300,
    }),
  },
  positional: ['kind'],
  usesModels: true,
  usesDatabase: true,

  async execute({ options, services, place }): Promise<QuizReport> {
    const guildId = place.guildId;
    // A live round (on Discord) and the board belong to a server; the CLI's practice round needs none.
    if (!guildId && (place.reply || options.kind === 'scores')) {
      throw new UserFacingError(
        "/quiz works in a server: each server has its own rounds and scores. Use it in one of your server's channels.",
        { code: 'server_only' },
      );
    }
    if (options.kind === 'scores')
      return { action: 'scores', board: await services.quiz.scores(guildId ?? '', place.userId) };
    // A server that set a quiz channel (/settings quiz_channel) runs its rounds there only.
    if (guildId && place.reply && place.channelId) {
      const { quizChannelId } = await services.settings.effective(guildId);
      if (quizChannelId && quizChannelId !== place.channelId)
        throw new UserFacingError(`Quiz rounds in this server run in <#${quizChannelId}>: start one there.`, {
          code: 'invalid_options',
        });
    }
    const kind = QUIZ_KINDS.find((entry) => entry === options.kind);
    if (options.image && (kind === 'tokenizer' || kind === 'agree'))
      throw new UserFacingError(`A ${kind} round is about a sentence: give text:, not an image.`, {
        code: 'invalid_options',
      });
    if (options.text !== undefined && (kind === 'model' || kind === 'clip'))
      throw new UserFacingError(`A ${kind} round is about a picture: give image:, not text.`, {
        code: 'invalid_options',
      });
    const round = await services.quiz.start({
      kind,
      image: options.image,
      text: options.text,
      guildId: guildId ?? '',
      channelId: place.channelId ?? null,
      userId: place.userId ?? null,
      reply: place.reply,
    });
    return { action: 'round', ...round };
  },

  answerButtons(report) {
    if (report.action !== 'round' || report.id === undefined) return undefined;
    const id = report.id;
    return report.content.choices.map((choice) => ({ label: choice.label, customId: quizButtonId(id, choice.id) }));
  },

  toJson(report) {
    if (report.action === 'scores') return { ...report.board, own: report.board.own ?? null };
    const { content } = report;
    return {
      id: report.id ?? null,
      kind: content.kind,
      question: content.question,
      choices: content.choices,
      correct: content.correct,
      answer: content.answer,
      note: content.note,
      deadline: report.deadline === undefined ? null : new Date(report.deadline).toISOString(),
    };
  },

  toText(report) {
    return report.action === 'scores' ? boardText(report.board, false) : roundText(report);
  },

  toEmbeds(report) {
    if (report.action === 'scores')
      return { embeds: [{ title: '/quiz leaderboard', description: boardText(report.board, true) }], files: [] };
    const files = report.image ? [{ name: report.image.name, data: report.image.bytes }] : [];
    if (report.id === undefined) {
      // Nobody to race (no live round): the answer comes with the question.
      const view = revealView({
        round: { ...report.content, id: '', guildId: '', startedAt: 0, deadline: 0 },
        scored: [],
      });
      return {
        embeds: [
          {
            ...view,
            fields: view.fields.filter((field) => !/^(Right|Wrong) /.test(field.name)),
            footer: 'Practice: no live round here, so the answer comes with the question.',
          },
        ],
        files,
      };
    }
    const { question } = report.content;
    const embed: EmbedSpec = {
      title: question.title,
      description: question.description,
      fields: question.fields,
      ...(question.image ? { image: question.image } : {}),
      footer: `Answer with a button: one answer per member. The answer comes in ${report.seconds} s.`,
    };
    return { embeds: [embed], files };
  },
});
