import { ApplicationCommandType } from 'discord-api-types/v10';
import { z } from 'zod';
import { defineCommand } from '../src/command/definition.js';

/** One line per command: what it does and an example, kept next to each other here so they stay true. */
const GUIDE: Array<[string, string, string]> = [
  ['/classify', 'A CNN and a Vision Transformer label your image side by side, with agreement, latency and the ViT\'s patch grid.', '/classify image:<photo> models:both top:5'],
  ['/match', 'CLIP scores your image against labels you choose (zero-shot).', '/match image:<photo> labels:a cat, a dog, a teapot'],
  ['/tokenize', 'See BERT WordPiece, GPT-2 BPE and CLIP BPE cut your text into tokens, next to ViT image patches.', '/tokenize text:The unaffable café 😀'],
  ['/sentiment', 'VADER (word lexicon + rules) beside a transformer (DistilBERT SST-2), with the words that moved VADER.', '/sentiment text:Not bad at all'],
  ['/explain', 'A short note on one topic: pixels vs tokens, CNN vs ViT, CLIP, quantization…', '/explain topic:cnn-vs-vit'],
  ['/ask', 'Ask a study question; answered from the notes (and an LLM when one is configured).', '/ask question:Why do ViTs need more data than CNNs?'],
  ['/status', 'Execution provider, loaded models, queue depth and latency.', '/status'],
  ['Apps → Classify image', 'Right-click a message with an image.', ''],
  ['Apps → Analyze text', 'Right-click a message to see its sentiment and tokens.', ''],
];

export default defineCommand({
  data: { name: 'help', type: ApplicationCommandType.ChatInput, description: 'What each sightread command does, with an example' },
  options: z.object({}),
  cli: { positional: [], example: 'help' },

  async execute() {
    return {
      data: { commands: GUIDE.map(([name, what, example]) => ({ name, what, example })) },
      embeds: [
        {
          title: 'sightread: see how vision and language models work',
          description: 'Every answer shows real model outputs, which model produced them, how long it took, and how vision and language processing differ.',
          fields: GUIDE.map(([name, what, example]) => ({ name, value: example ? `${what}\n\`${example}\`` : what })),
        },
      ],
      files: [],
      text: GUIDE.map(([name, what, example]) => `${name.padEnd(22)} ${what}${example ? `\n${''.padEnd(22)} e.g. ${example}` : ''}`).join('\n'),
    };
  },
});
