import { messageCommand, type CommandContext } from '../src/command/definition.js';
import { isUserFacing } from '../src/util/errors.js';
import sentiment, { type SentimentReport } from './sentiment.js';
import tokenize, { type TokenizeReport } from './tokenize.js';

interface AnalyzeTextReport {
  sentiment: SentimentReport;
  tokens: TokenizeReport | { unavailable: string };
}

/** Message context menu: the sentiment and BERT tokens of a message's text. */
export default messageCommand({
  name: 'Analyze text',
  followUps: [
    { label: 'Which words mattered?', command: 'saliency-text' },
    { label: 'Stress test', command: 'stress-text' },
    { label: 'Mask words', command: 'mask-text' },
    { label: 'Classic pipeline', command: 'preprocess' },
  ],
  target: 'text',
  usesModels: true,
  help: { what: 'Right-click a message to see its sentiment and tokens.' },

  async execute(context): Promise<AnalyzeTextReport> {
    const text = context.options.text ?? '';
    const feelings = await sentiment.execute({ ...context, options: { text } });
    try {
      const tokens = await tokenize.execute({
        ...context,
        options: { text, tokenizer: 'bert' },
      } as CommandContext<never>);
      return { sentiment: feelings, tokens };
    } catch (error) {
      if (!isUserFacing(error)) throw error;
      return { sentiment: feelings, tokens: { unavailable: error.message } };
    }
  },

  toJson: (report) => ({
    sentiment: sentiment.toJson(report.sentiment),
    tokens: 'unavailable' in report.tokens ? report.tokens : tokenize.toJson(report.tokens),
  }),
  toText: (report) =>
    `${sentiment.toText(report.sentiment)}\n\n${'unavailable' in report.tokens ? `Tokens unavailable: ${report.tokens.unavailable}` : tokenize.toText(report.tokens)}`,
  async toEmbeds(report) {
    const feelings = await sentiment.toEmbeds(report.sentiment);
    if ('unavailable' in report.tokens) return feelings;
    const tokens = await tokenize.toEmbeds(report.tokens);
    return { embeds: [...feelings.embeds, ...tokens.embeds], files: [...feelings.files, ...tokens.files] };
  },
});
