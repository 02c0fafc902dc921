import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord-api-types/v10';
import { z } from 'zod';
import { defineCommand, type EmbedField } from '../src/command/definition.js';
import { explainSentiment } from '../src/knowledge/hooks.js';
import { ms, percent, table } from '../src/render/format.js';
import { analyseSentiment } from '../src/text/analyse.js';
import { prepareText } from '../src/text/input.js';

const options = z.object({ text: z.string({ error: 'text: give me a sentence to analyse' }) });

const signed = (value: number): string => `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;

export default defineCommand({
  data: {
    name: 'sentiment',
    type: ApplicationCommandType.ChatInput,
    description: 'Sentiment from VADER (lexicon + rules) beside a transformer (DistilBERT SST-2)',
    options: [{ name: 'text', description: 'The text to analyse', type: ApplicationCommandOptionType.String, required: true, max_length: 6000 }],
  },
  options,
  cli: { positional: ['text'], example: 'sentiment "The plot was good, but the acting was not great." --json' },

  async execute({ options: { text: raw }, services, progress }) {
    const prepared = prepareText(raw, services.config.TEXT_MAX_CHARS, { stripMarkup: true });
    const report = await analyseSentiment(services, prepared.text, {
      onPosition: (position) => progress(`transformer: waiting in the queue, position ${position}`),
    });
    const notes = [...prepared.notes, ...report.notes];
    const explanation = explainSentiment({ notes });
    const { vader, transformer, comparison } = report;
    const data = {
      vader: { neg: vader.neg, neu: vader.neu, pos: vader.pos, compound: vader.compound, label: vader.label, contributions: vader.contributions },
      transformer,
      agreement: comparison,
      notes,
      truncated: prepared.truncated,
      explanation,
    };

    const contributionLines = vader.contributions.length
      ? vader.contributions.map((c) => `\`${signed(c.valence)}\` **${c.word}**${c.rules.length ? ` — ${c.rules.join(', ')}` : ''}`).join('\n')
      : 'No word from the lexicon: neutral.';
    const transformerValue =
      'label' in transformer
        ? `**${transformer.label.toLowerCase()}** ${percent(transformer.score)}\n${transformer.tokens} tokens${transformer.truncated ? ` (cut to ${transformer.maxTokens})` : ''}`
        : `unavailable: ${transformer.unavailable}`;
    const fields: EmbedField[] = [
      { name: 'VADER (lexicon + rules)', value: `**${vader.label}** compound ${signed(vader.compound)}\nneg ${vader.neg} · neu ${vader.neu} · pos ${vader.pos}`, inline: true },
      { name: 'Transformer (DistilBERT SST-2)', value: transformerValue, inline: true },
      { name: 'Words that moved VADER', value: contributionLines },
    ];
    if (comparison) fields.push({ name: comparison.agree ? 'They agree' : 'They disagree', value: comparison.reason ?? 'Both engines give the same label.' });
    if (notes.length) fields.push({ name: 'Notes', value: notes.map((note) => `• ${note}`).join('\n') });
    fields.push({ name: 'Vision vs language', value: explanation.text });

    const footer = 'label' in transformer ? `VADER (vader-sentiment) · ${transformer.model.id} · ${transformer.model.precision} · ${transformer.model.executionProvider}: ${ms(transformer.timings.totalMs)}` : 'VADER (vader-sentiment)';
    const text = [
      table(
        ['engine', 'label', 'score'],
        [
          ['VADER', vader.label, `compound ${signed(vader.compound)} (neg ${vader.neg} neu ${vader.neu} pos ${vader.pos})`],
          ['transformer', 'label' in transformer ? transformer.label.toLowerCase() : 'unavailable', 'label' in transformer ? percent(transformer.score) : transformer.unavailable],
        ],
      ),
      vader.contributions.length ? table(['word', 'lexicon', 'valence', 'rules'], vader.contributions.map((c) => [c.word, signed(c.lexicon), signed(c.valence), c.rules.join('; ')])) : 'VADER: no lexicon words.',
      ...(comparison?.reason ? [comparison.reason] : []),
      ...notes,
      explanation.text,
    ].join('\n\n');
    return { data, embeds: [{ title: 'Sentiment: lexicon vs transformer', description: prepared.text.length > 300 ? `${prepared.text.slice(0, 300)}…` : prepared.text, fields, footer }], files: [], text };
  },
});
