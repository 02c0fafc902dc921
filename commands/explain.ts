import { slashCommand } from '../src/command/definition.js';
import { option } from '../src/command/options.js';
import { suggestTopics, type Topic } from '../src/knowledge/topics.js';
import { UserFacingError } from '../src/util/errors.js';
import { quoteUserText } from '../src/util/user-text.js';

export default slashCommand({
  name: 'explain',
  description: 'A short study note on how vision and language models differ and converge',
  help: {
    what: 'A short note on one topic: pixels vs tokens, CNN vs ViT, CLIP, quantization…',
    example: { topic: 'cnn-vs-vit' },
  },
  options: {
    topic: option.string('Start typing: CNN, tokenization, CLIP, quantization…', {
      required: true,
      maxLength: 100,
      autocomplete: true,
    }),
  },
  positional: ['topic'],
  autocomplete: (_option, typed, services) => suggestTopics(services.topics, typed),

  async execute({ options: { topic: raw }, services }): Promise<Topic> {
    const { topics } = services;
    const wanted = raw.trim();
    if (!wanted)
      throw new UserFacingError('Choose a topic (start typing in /explain and pick from the list).', {
        code: 'unknown_topic',
      });
    const topic = topics.get(wanted.toLowerCase()) ?? topics.get(suggestTopics(topics, wanted)[0]?.value ?? '');
    if (!topic)
      throw new UserFacingError(
        `I have no note on ${quoteUserText(wanted, 'code')}. Topics: ${[...topics.keys()].join(', ')}.`,
        {
          code: 'unknown_topic',
        },
      );
    return topic;
  },

  toJson: ({ id, title, keywords, commands, summary, body }) => ({ id, title, keywords, commands, summary, body }),
  toText: (topic) =>
    `${topic.title}\n${'='.repeat(topic.title.length)}\n\n${topic.body}\n\nRelated commands: ${topic.commands.map((command) => `/${command}`).join(', ')}`,
  toEmbeds: (topic) => ({
    embeds: [
      {
        title: topic.title,
        description: topic.body,
        footer: `Topic ${topic.id} · try ${topic.commands.map((command) => `/${command}`).join(', ')}`,
      },
    ],
    files: [],
  }),
});
