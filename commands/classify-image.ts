import { ApplicationCommandType } from 'discord-api-types/v10';
import { z } from 'zod';
import { defineCommand, imageInput } from '../src/command/definition.js';
import classify from './classify.js';

/** Message context menu: classify the first image of a message with both models. */
export default defineCommand({
  data: { name: 'Classify image', type: ApplicationCommandType.Message },
  options: z.object({ image: imageInput }),
  messageTarget: 'image',
  execute: (context) => classify.execute({ ...context, options: { image: context.options.image, model: 'both', top: 5 } }),
});
