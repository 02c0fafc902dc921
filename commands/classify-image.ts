import { messageCommand, type CommandContext } from '../src/command/definition.js';
import classify from './classify.js';

/** Message context menu: the first image of a message, classified by both models. */
export default messageCommand({
  name: 'Classify image',
  followUps: [
    { label: 'Where did it look?', command: 'saliency' },
    { label: 'Stress test', command: 'stress' },
    { label: 'Hide patches', command: 'mask' },
  ],
  target: 'image',
  usesModels: true,
  help: { what: 'Right-click a message with an image.' },
  execute: (context) => {
    const { image } = context.options;
    return classify.execute({ ...context, options: { image, model: undefined, top: 5 } } as CommandContext<never>);
  },
  toJson: classify.toJson,
  toText: classify.toText,
  toEmbeds: classify.toEmbeds,
});
