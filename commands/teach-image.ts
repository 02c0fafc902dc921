import { messageCommand, type CommandContext } from '../src/command/definition.js';
import { MAX_CLASS_NAME } from '../src/teach/names.js';
import teach from './teach.js';

/**
 * Message context menu: adds the message's image to one of the server's /teach classes. A
 * context menu carries no options, so the class is asked for in a form first.
 */
export default messageCommand({
  name: 'Teach this image',
  target: 'image',
  ask: { title: 'Teach this image', label: 'Class (e.g. cat)', placeholder: 'cat', maxLength: MAX_CLASS_NAME },
  usesModels: true,
  usesDatabase: true,
  help: { what: "Right-click a message with an image to add it to one of the server's /teach classes." },
  execute: (context) => {
    const { image, answer } = context.options;
    return teach.execute({
      ...context,
      options: { action: 'add', class: answer, image },
    } as CommandContext<never>);
  },
  toJson: teach.toJson,
  toText: teach.toText,
  toEmbeds: teach.toEmbeds,
});
