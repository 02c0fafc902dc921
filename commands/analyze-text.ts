import { ApplicationCommandType } from 'discord-api-types/v10';
import { z } from 'zod';
import { defineCommand } from '../src/command/definition.js';
import { isUserFacing } from '../src/util/errors.js';
import sentiment from './sentiment.js';
import tokenize from './tokenize.js';

/** Message context menu: sentiment and tokens of a message's text. */
export default defineCommand({
  data: { name: 'Analyze text', type: ApplicationCommandType.Message },
  options: z.object({ text: z.string() }),
  messageTarget: 'text',
  async execute(context) {
    const feelings = await sentiment.execute({ ...context, options: { text: context.options.text } });
    try {
      const tokens = await tokenize.execute({ ...context, options: { text: context.options.text, tokenizer: 'bert' } });
      return {
        data: { sentiment: feelings.data, tokens: tokens.data },
        embeds: [...feelings.embeds, ...tokens.embeds],
        files: [],
        text: `${feelings.text}\n\n${tokens.text}`,
      };
    } catch (error) {
      if (!isUserFacing(error)) throw error;
      const note = `Tokens unavailable: ${error.message}`;
      return { ...feelings, data: { sentiment: feelings.data, tokens: { unavailable: error.message } }, text: `${feelings.text}\n\n${note}` };
    }
  },
});
