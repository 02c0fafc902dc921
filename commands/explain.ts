import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord-api-types/v10';
import { z } from 'zod';
import { defineCommand } from '../src/command/definition.js';
import { UserFacingError } from '../src/util/errors.js';
import { suggestTopics } from '../src/knowledge/topics.js';

const options = z.object({ topic: z.string({ error: 'topic: choose a topic (try /explain and pick from the list)' }).trim().min(1, 'topic: choose a topic') });

export default defineCommand({
  data: {
    name: 'explain',
    type: ApplicationCommandType.ChatInput,
    description: 'A short study note on how vision and language models differ and converge',
    options: [{ name: 'topic', description: 'Start typing: CNN, tokenization, CLIP, quantization…', type: ApplicationCommandOptionType.String, required: true, autocomplete: true, max_length: 100 }],
  },
  options,
  cli: { positional: ['topic'], example: 'explain cnn-vs-vit' },
  autocomplete: (_option, typed, services) => suggestTopics(services.topics, typed),

  async execute({ options: { topic: wanted }, services }) {
    const { topics } = services;
    const topic = topics.get(wanted.toLowerCase()) ?? topics.get(suggestTopics(topics, wanted)[0]?.value ?? '');
    if (!topic) {
      const list = [...topics.keys()].join(', ');
      throw new UserFacingError(`I have no note on "${wanted}". Topics: ${list}.`, { code: 'unknown_topic' });
    }
    const related = topic.commands.map((command) => `/${command}`).join(', ');
    return {
      data: { id: topic.id, title: topic.title, keywords: topic.keywords, commands: topic.commands, summary: topic.summary, body: topic.body },
      embeds: [{ title: topic.title, description: topic.body, footer: `Topic ${topic.id} · try ${related}` }],
      files: [],
      text: `${topic.title}\n${'='.repeat(topic.title.length)}\n\n${topic.body}\n\nRelated commands: ${related}`,
    };
  },
});
