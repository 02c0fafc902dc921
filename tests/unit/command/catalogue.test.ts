import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogue, readmeCommandTable } from '../../../src/command/catalogue.js';
import { registration } from '../../../src/command/definition.js';
import { loadCommands } from '../../../src/command/loader.js';
import { runAndPresent } from '../../../src/command/run.js';
import { ROOT, testServices } from '../../helpers.js';

const commands = await loadCommands();

describe('commands are declared once', () => {
  it('keeps the README command table identical to the one generated from the declarations', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const section = /<!-- commands:start[^>]*-->\n([\s\S]*?)\n<!-- commands:end -->/.exec(readme)?.[1];
    expect(section, 'README.md lost its commands markers').toBeDefined();
    expect(section, 'the README table drifted: run `npm run docs`').toBe(readmeCommandTable(commands.values()));
  });

  it('gives every /help example only options the command declares, with values it accepts', () => {
    for (const command of commands.values()) {
      if (command.kind !== 'slash') continue;
      const example = command.help.example ?? {};
      for (const name of Object.keys(example))
        expect(Object.keys(command.options.specs), `/${command.name} example`).toContain(name);
      const raw = Object.fromEntries(
        Object.entries(example).map(([name, value]) => [
          name,
          command.options.specs[name]!.kind === 'attachment' ? { name: value, bytes: Buffer.alloc(1) } : value,
        ]),
      );
      expect(command.options.schema.safeParse(raw).success, `/${command.name} example ${JSON.stringify(example)}`).toBe(
        true,
      );
    }
  });

  it('registers with Discord exactly the limits the validation enforces', () => {
    const match = commands.get('match')!;
    const labels = registration(match) as { options: Array<{ name: string; max_length?: number }> };
    const maxLength = labels.options.find((option) => option.name === 'labels')!.max_length!;
    const image = { name: 'x.png', bytes: Buffer.alloc(1) };
    expect(match.options.schema.safeParse({ image, labels: 'x'.repeat(maxLength) }).success).toBe(true);
    expect(match.options.schema.safeParse({ image, labels: 'x'.repeat(maxLength + 1) }).success).toBe(false);
    const classify = registration(commands.get('classify')!) as {
      options: Array<{ name: string; required?: boolean }>;
    };
    // Discord refuses a command whose optional options come before required ones.
    expect(classify.options.map((option) => option.name)).toEqual(['image', 'model', 'top']);
    expect(classify.options[0]!.required).toBe(true);
  });

  it('shows in /help the examples it generates, with the real option names', async () => {
    const services = testServices();
    const help = await runAndPresent(commands.get('help')!, {}, services);
    const listed = (help.data as { commands: Array<{ name: string; example: string }> }).commands;
    expect(listed.find((entry) => entry.name === '/classify')!.example).toBe(
      '/classify image:<photo.jpg> model:both top:5',
    );
    expect(listed.map((entry) => entry.name)).toEqual(catalogue(commands.values()).map((entry) => entry.name));
    expect(listed.map((entry) => entry.name)).toContain('Apps → Classify image');
    await services.dispose();
  });
});
