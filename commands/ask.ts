import { slashCommand } from '../src/command/definition.js';
import { option } from '../src/command/options.js';
import type { AskResult } from '../src/knowledge/ask.js';
import { prepareText } from '../src/text/input.js';
import { quoteUserText } from '../src/util/user-text.js';

/** Longer questions are cut, with a note: retrieval needs the gist, not an essay. */
const MAX_QUESTION_CHARS = 1000;

export interface AskReport extends AskResult {
  question: string;
  /** The LLM that answered, when one did. */
  llm: string | undefined;
}

const sourceList = (report: AskReport): string =>
  report.citations.map((citation) => `• ${citation.title} — \`/explain topic:${citation.id}\``).join('\n');

const footer = (report: AskReport): string =>
  report.mode === 'llm'
    ? `Answered by ${report.llm} from the notes · confidence ${(report.confidence ?? 0).toFixed(2)}`
    : 'Extractive answer: passages from the notes';

export default slashCommand({
  name: 'ask',
  description: 'Ask a study question about vision and language models',
  help: {
    what: 'Ask a study question; answered from the notes (and an LLM when one is configured).',
    example: { question: 'Why do ViTs need more data than CNNs?' },
  },
  options: {
    question: option.string('e.g. Why do ViTs need more data than CNNs?', { required: true, maxLength: 6000 }),
  },
  positional: ['question'],

  async execute({ options: { question: raw }, services }): Promise<AskReport> {
    const question = prepareText(raw, MAX_QUESTION_CHARS, { stripMarkup: true });
    const result = await (await services.assistant()).ask(question.text);
    const llm = result.mode === 'llm' ? services.config.LLM_MODEL : undefined;
    return { ...result, notes: [...question.notes, ...result.notes], question: question.text, llm };
  },

  toJson: ({ answer, mode, citations, confidence, outOfScope, notes }) => ({
    answer,
    mode,
    citations,
    confidence,
    outOfScope,
    notes,
  }),
  toText: (report) =>
    [report.answer, sourceList(report) && `Sources:\n${sourceList(report)}`, ...report.notes, `(${footer(report)})`]
      .filter(Boolean)
      .join('\n\n'),
  toEmbeds: (report) => ({
    embeds: [
      {
        title: quoteUserText(report.question.length > 200 ? `${report.question.slice(0, 199)}…` : report.question),
        description: report.answer,
        fields: [
          ...(report.citations.length ? [{ name: 'Sources', value: sourceList(report) }] : []),
          ...(report.notes.length ? [{ name: 'Note', value: report.notes.join('\n') }] : []),
        ],
        footer: footer(report),
      },
    ],
    files: [],
  }),
});
