import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord-api-types/v10';
import { z } from 'zod';
import { defineCommand } from '../src/command/definition.js';
import { prepareText } from '../src/text/input.js';

/** Longer questions are cut, with a note: retrieval needs the gist, not an essay. */
const MAX_QUESTION_CHARS = 1000;

const options = z.object({ question: z.string({ error: 'question: ask me something about vision or language models' }) });

export default defineCommand({
  data: {
    name: 'ask',
    type: ApplicationCommandType.ChatInput,
    description: 'Ask a study question about vision and language models',
    options: [{ name: 'question', description: 'e.g. Why do ViTs need more data than CNNs?', type: ApplicationCommandOptionType.String, required: true, max_length: 6000 }],
  },
  options,
  cli: { positional: ['question'], example: 'ask "Why do vision transformers need more data than CNNs?" --json' },

  async execute({ options: { question: raw }, services }) {
    const question = prepareText(raw, MAX_QUESTION_CHARS, { stripMarkup: true });
    const result = await (await services.assistant()).ask(question.text);
    const notes = [...question.notes, ...result.notes];
    const sources = result.citations.map((citation) => `• ${citation.title} — \`/explain topic:${citation.id}\``).join('\n');
    const footer = result.mode === 'llm' ? `Answered by ${services.config.LLM_MODEL} from the notes · confidence ${(result.confidence ?? 0).toFixed(2)}` : 'Extractive answer: passages from the notes';
    return {
      data: { answer: result.answer, mode: result.mode, citations: result.citations, confidence: result.confidence, outOfScope: result.outOfScope, notes },
      embeds: [
        {
          title: question.text.length > 200 ? `${question.text.slice(0, 199)}…` : question.text,
          description: result.answer,
          fields: [...(sources ? [{ name: 'Sources', value: sources }] : []), ...(notes.length ? [{ name: 'Note', value: notes.join('\n') }] : [])],
          footer,
        },
      ],
      files: [],
      text: [result.answer, sources && `Sources:\n${sources}`, ...notes, `(${footer})`].filter(Boolean).join('\n\n'),
    };
  },
});
