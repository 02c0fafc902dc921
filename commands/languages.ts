import { slashCommand, type EmbedField } from '../src/command/definition.js';
import { option } from '../src/command/options.js';
import type { TransformerSentiment } from '../src/text/sentiment.js';
import type { Topic } from '../src/knowledge/topics.js';
import { renderGroupedBars } from '../src/render/grouped-bars.js';
import { batchNote, ms, percent, table } from '../src/render/format.js';
import { defaultSentences, MAX_SENTENCES, parseSentences, type LanguageSample } from '../src/text/languages.js';
import { PARALLEL_TEXT_SOURCE } from '../src/text/parallel-text.js';
import {
  PRICE_TOKENIZERS,
  type PriceTokenizer,
  type SentimentPair,
  type TokenPrice,
  type TokenPrices,
} from '../src/text/service.js';
import { quoteUserText } from '../src/util/user-text.js';

type Verdict = { label: string; score: number } | { unavailable: string };

export interface LanguageRow extends LanguageSample {
  tokenizers: Partial<Record<PriceTokenizer, TokenPrice>>;
  vader: { label: string; compound: number; lexiconWords: number };
  transformer: Verdict;
}

export interface LanguagesReport {
  /** What a 224×224 image costs the configured ViT, whatever language its caption is in. */
  imageTokens: number;
  imageModel: string;
  /** Where the sentences come from: the bundled parallel text, or the user. */
  source: { title: string; url?: string; licence?: string };
  languages: LanguageRow[];
  tokenizers: TokenPrices['tokenizers'];
  unavailable: TokenPrices['unavailable'];
  transformer: { model: TransformerSentiment['model']; timings: TransformerSentiment['timings'] } | undefined;
  reading: string;
  sources: string[];
}

const COLORS: Record<PriceTokenizer, string> = {
  bert: '#5865f2',
  gpt2: '#faa61a',
  clip: '#3ba55c',
  o200k: '#eb459e',
};

const TOPIC = 'language-specificity';

/** The note's sources that back the reading, by the phrase each starts with. */
function readingSources(topics: ReadonlyMap<string, Topic>): string[] {
  const note = topics.get(TOPIC);
  return (note?.sources ?? []).filter((source) =>
    /^(Petrov|Rust|google-research\/bert|OpenAI tiktoken|Dosovitskiy)/.test(source),
  );
}

const verdictText = (verdict: Verdict): string =>
  'label' in verdict ? `${verdict.label} ${percent(verdict.score)}` : 'unavailable';

const verdictOf = (pair: SentimentPair): Verdict =>
  'label' in pair.transformer
    ? { label: pair.transformer.label.toLowerCase(), score: pair.transformer.score }
    : { unavailable: pair.transformer.unavailable };

/**
 * The one-paragraph reading, from the numbers: the cheapest and dearest language per tokenizer,
 * among the languages it encoded without unknown tokens (a count of unknowns is lost text, not a price).
 */
function reading(rows: readonly LanguageRow[], imageTokens: number, names: readonly PriceTokenizer[]): string {
  const english = rows.find((row) => row.code === 'en');
  const transformerAnswered = rows.some((row) => 'label' in row.transformer);
  const parts = names.flatMap((name) => {
    const priced = rows.filter((row) => row.tokenizers[name] && !row.tokenizers[name].unknown);
    if (priced.length < 2) return [];
    const sorted = [...priced].sort((a, b) => a.tokenizers[name]!.tokens - b.tokenizers[name]!.tokens);
    const cheap = sorted[0]!;
    const dear = sorted.at(-1)!;
    const ratio = dear.tokenizers[name]!.tokens / Math.max(1, cheap.tokenizers[name]!.tokens);
    return [
      `${name}: ${cheap.name} ${cheap.tokenizers[name]!.tokens} tokens, ${dear.name} ${dear.tokenizers[name]!.tokens} (${ratio.toFixed(1)}×)`,
    ];
  });
  const lost = rows.flatMap((row) =>
    names.flatMap((name) =>
      row.tokenizers[name]?.unknown ? [`${name} on ${row.name}: ${row.tokenizers[name]!.unknown} unknown`] : [],
    ),
  );
  const nonEnglishPositive = rows.filter((row) => row.code !== 'en' && row.vader.lexiconWords === 0).length;
  return [
    `The same meaning costs very different amounts of text tokens: ${parts.join('; ') || 'no tokenizer answered'}.`,
    ...(lost.length
      ? [
          `A low count can mean lost text, not a good price: ${lost.join('; ')} (the unknown token stands for text the model never sees).`,
        ]
      : []),
    "Vocabularies learned mostly from English text (BERT-uncased, GPT-2, CLIP) spend many tokens, down to single bytes, on other scripts. o200k, GPT-4o's vocabulary of 200k tokens (four times GPT-2's), is shown for comparison: read its spread above against GPT-2's (Petrov et al. 2023 measured up to 15× between languages for the same meaning).",
    `An image costs the ViT ${imageTokens} tokens whatever language its caption is in: pixels have no language, so the price is fixed by the patch grid.`,
    english
      ? `VADER found no lexicon word in ${nonEnglishPositive} of the ${rows.length - 1} non-English sentences: its lexicon is English, so it reads them as neutral${
          transformerAnswered
            ? '; the transformer (fine-tuned on English movie reviews) still answers with a confident label, which means little outside English.'
            : '.'
        }`
      : 'VADER and the transformer were both trained on English only: outside English their verdicts mean little.',
  ].join(' ');
}

export default slashCommand({
  name: 'languages',
  description: 'The same sentence in 16 languages: its price in tokens per tokenizer, next to an image’s fixed price',
  help: {
    what: 'The same sentence (UDHR Article 1) in 16 languages and 13 scripts: what it costs BERT, GPT-2, CLIP and o200k in tokens, beside the fixed 197 tokens of an image, and what English-only sentiment makes of it.',
    example: { text: 'en: I love this film | fr: J’adore ce film | ja: この映画が大好き' },
  },
  options: {
    text: option.string(
      `Your own sentences (at most ${MAX_SENTENCES}), separated by " | " or new lines; "fr: …" names the language`,
      { maxLength: 2000 },
    ),
  },
  positional: ['text'],
  variadic: true,
  usesModels: true,

  async execute({ options: { text }, services, progress }): Promise<LanguagesReport> {
    const fromUser = text !== undefined;
    const samples: LanguageSample[] = fromUser
      ? parseSentences(text)
      : defaultSentences().map(({ code, name, text: sentence }) => ({ code, name, text: sentence }));
    const texts = samples.map((sample) => sample.text);
    const [prices, sentiment] = await Promise.all([
      services.text.tokenPrices(texts),
      services.text.sentimentMany(texts, (position) =>
        progress(`transformer: waiting in the queue, position ${position}`),
      ),
    ]);
    const grid = services.vision.patchGrid();
    const languages: LanguageRow[] = samples.map((sample, index) => {
      const pair = sentiment[index]!;
      return {
        ...sample,
        tokenizers: prices.prices[index]!,
        vader: {
          label: pair.vader.label,
          compound: pair.vader.compound,
          lexiconWords: pair.vader.contributions.length,
        },
        transformer: verdictOf(pair),
      };
    });
    const first = sentiment.find((pair) => 'label' in pair.transformer)?.transformer;
    const names = prices.tokenizers.map((tokenizer) => tokenizer.name);
    return {
      imageTokens: grid.tokens,
      imageModel: services.vision.modelIds.vit,
      source: fromUser
        ? { title: 'your sentences' }
        : { title: PARALLEL_TEXT_SOURCE.title, url: PARALLEL_TEXT_SOURCE.url, licence: PARALLEL_TEXT_SOURCE.licence },
      languages,
      tokenizers: prices.tokenizers,
      unavailable: prices.unavailable,
      transformer: first && 'label' in first ? { model: first.model, timings: first.timings } : undefined,
      reading: reading(languages, grid.tokens, names),
      sources: readingSources(services.topics),
    };
  },

  toJson: (report) => ({
    imageTokens: report.imageTokens,
    imageModel: report.imageModel,
    source: report.source,
    languages: report.languages.map(({ code, name, text, tokenizers, vader, transformer }) => ({
      code,
      name,
      text,
      tokenizers,
      vader: { label: vader.label, compound: vader.compound },
      transformer,
    })),
    tokenizers: report.tokenizers,
    unavailable: report.unavailable,
    transformer: report.transformer,
    reading: report.reading,
    sources: report.sources,
  }),

  toText: (report) => {
    const names = PRICE_TOKENIZERS.filter((name) => report.tokenizers.some((t) => t.name === name));
    return [
      `Source: ${report.source.title}${report.source.url ? ` (${report.source.url}; ${report.source.licence})` : ''}`,
      table(
        ['code', 'language', ...names.map((name) => `${name} tokens (per char)`), 'VADER', 'transformer'],
        report.languages.map((row) => [
          row.code,
          quoteUserText(row.name, 'plain'),
          ...names.map((name) => {
            const price = row.tokenizers[name];
            if (!price) return '—';
            return `${price.tokens} (${price.perChar.toFixed(2)})${price.unknown ? `, ${price.unknown} unknown` : ''}`;
          }),
          `${row.vader.label} ${row.vader.compound.toFixed(3)}`,
          verdictText(row.transformer),
        ]),
      ),
      `Any 224×224 image: ${report.imageTokens} tokens for ${report.imageModel}, in every language.`,
      ...report.unavailable.map((missing) => `${missing.tokenizer} unavailable: ${missing.reason}`),
      report.transformer
        ? `Transformer: ${report.transformer.model.id} · ${report.transformer.model.precision} · ${report.transformer.model.executionProvider}, ${ms(report.transformer.timings.totalMs)} for ${report.languages.length} sentences (${batchNote(report.transformer.timings)})`
        : 'Transformer: unavailable',
      report.reading,
      ...(report.sources.length ? [`Sources: ${report.sources.join('; ')}`] : []),
    ].join('\n\n');
  },

  async toEmbeds(report) {
    const names = PRICE_TOKENIZERS.filter((name) => report.tokenizers.some((t) => t.name === name));
    const chart = await renderGroupedBars({
      title: 'The price in tokens of one sentence, per language',
      subtitle: `${report.source.title}. Text tokens without [CLS]/[SEP]; the dashed line is what any 224×224 image costs ${report.imageModel}.`,
      legend: report.tokenizers.map((t) => ({ name: `${t.name} (${t.algorithm})`, color: COLORS[t.name] })),
      reference: { value: report.imageTokens, label: `image: ${report.imageTokens} tokens`, color: '#f2f3f5' },
      groups: report.languages.map((row) => ({
        label: `${row.code} · ${row.name}`,
        bars: names.flatMap((name) => {
          const price = row.tokenizers[name];
          return price
            ? [
                {
                  value: price.tokens,
                  // Unknown tokens are lost text: a short bar that is no bargain must say so.
                  text: `${price.tokens} (${price.perChar.toFixed(2)}/char)${price.unknown ? `, ${price.unknown} unknown` : ''}`,
                  color: COLORS[name],
                },
              ]
            : [];
        }),
      })),
    });
    const fields: EmbedField[] = [
      {
        name: 'Tokens per language',
        value: report.languages
          .map(
            (row) =>
              `\`${row.code}\` ${quoteUserText(row.name)}: ${names.map((name) => `${name} ${row.tokenizers[name]?.tokens ?? '—'}`).join(' · ')}`,
          )
          .join('\n'),
      },
      {
        name: 'English-only sentiment',
        value: report.languages
          .map(
            (row) =>
              `\`${row.code}\` VADER ${row.vader.label} (${row.vader.lexiconWords} lexicon words) · transformer ${verdictText(row.transformer)}`,
          )
          .join('\n'),
      },
      {
        name: 'An image',
        value: `${report.imageTokens} tokens for ${report.imageModel}, whatever the language.`,
        inline: true,
      },
    ];
    for (const missing of report.unavailable)
      fields.push({ name: `${missing.tokenizer} unavailable`, value: missing.reason });
    fields.push({ name: 'The reading', value: report.reading });
    if (report.sources.length) fields.push({ name: 'Sources', value: report.sources.join('\n') });
    return {
      embeds: [
        {
          title: 'Other languages: text is priced per language, images are not',
          description: report.source.url
            ? `${report.source.title} — ${report.source.url} (${report.source.licence}).`
            : 'Your sentences.',
          fields,
          image: 'languages.png',
          footer: report.transformer
            ? `VADER 3.3.2 (sightread port) · ${report.transformer.model.id} · ${report.transformer.model.precision} · ${report.transformer.model.executionProvider}: ${ms(report.transformer.timings.totalMs)}`
            : 'VADER 3.3.2 (sightread port) · transformer unavailable',
        },
      ],
      files: [{ name: 'languages.png', data: chart }],
    };
  },
});
