import { afterAll, describe, expect, it } from 'vitest';
import type { SlashCommand } from '../../../src/command/definition.js';
import { loadCommands } from '../../../src/command/loader.js';
import { loadTopics, parseTopic, type Topic, type TryItExpectation } from '../../../src/knowledge/topics.js';
import { HAS_SHARED, SHARED_SKIP_REASON } from '../../helpers.js';
import { checkEquation, checkNoteClaims, figures, prose } from './note-claims.js';
import {
  claimProblems,
  isCheckable,
  offlineServices,
  runnability,
  runThroughCli,
  staticProblems,
  SUBJECTS,
} from './try-it.js';

const topics = [...loadTopics().values()];
const commands = await loadCommands();

/** A note as a file would hold it, for the tests that plant mistakes. */
const note = (sources: string[], body: string): Topic =>
  parseTopic(
    'planted.md',
    [
      '---',
      'id: planted',
      'title: A planted note',
      'keywords: [a, b, c]',
      'commands: [sentiment]',
      'summary: A note with a mistake planted in it, to show that the checks catch it.',
      'sources:',
      ...sources.map((source) => `  - ${source}`),
      '---',
      body,
    ].join('\n'),
  );

const VADER_SOURCE =
  'Hutto & Gilbert 2014, "VADER: A Parsimonious Rule-based Model for Sentiment Analysis of Social Media Text", ICWSM-14, https://ojs.aaai.org/index.php/ICWSM/article/view/14550 | backs: 7,500';

describe('sources: every figure and named result in a note is backed', () => {
  it.each(topics.map((topic) => [topic.id, topic] as const))('%s', (_id, topic) => {
    const report = checkNoteClaims(topic, isCheckable);
    expect(report.badSources, 'sources that name no URL, arXiv id, DOI or repository file').toEqual([]);
    expect(report.badDerivations, 'derived: entries that do not compute').toEqual([]);
    expect(report.unbacked, 'figures in the prose that no source, derivation or checked Try-it claim backs').toEqual(
      [],
    );
    expect(report.uncited, 'author-year citations with no source naming that author and year').toEqual([]);
  });

  it('fails a planted unsourced figure, and a citation whose year no source has', () => {
    const planted = note(
      [VADER_SOURCE],
      'VADER (Hutto and Gilbert, 2014) has about 7,500 entries, rated by 12 people.\n\n**Try it:** see.\n```sightread\n/sentiment text:good\n```',
    );
    expect(checkNoteClaims(planted, isCheckable).unbacked).toEqual(['12']);
    const wrongYear = note(
      [VADER_SOURCE],
      'VADER (Hutto and Gilbert, 2015) has about 7,500 entries.\n\n**Try it:** see.\n```sightread\n/sentiment text:good\n```',
    );
    expect(checkNoteClaims(wrongYear, isCheckable)).toMatchObject({
      unbacked: ['2015'],
      uncited: ['Hutto and Gilbert, 2015'],
    });
  });

  it('counts a figure as backed by a checked Try-it claim, but not by a claim it cannot check', () => {
    const body = (subject: string): string =>
      `It scores −0.44 here.\n\n**Try it:** see.\n\`\`\`sightread\n/sentiment text:okay, neither good nor bad\n→ ${subject}: compound −0.44\n\`\`\``;
    expect(checkNoteClaims(note([VADER_SOURCE], body('vader')), isCheckable).unbacked).toEqual([]);
    expect(checkNoteClaims(note([VADER_SOURCE], body('distilbert-sst2')), isCheckable).unbacked).toEqual(['0.44']);
  });

  it('recomputes derived figures and rejects a wrong one or one from an unbacked operand', () => {
    expect(checkEquation('3 × 224 × 224 = 150,528')).toBeUndefined();
    expect(checkEquation('224 / 16 = 14')).toBeUndefined();
    expect(checkEquation('196 + 1 = 198')).toMatch(/left side is 197/);
    const planted = note(
      [`${VADER_SOURCE}; 16`, 'derived: 224 / 16 = 14'],
      'There are 14 columns.\n\n**Try it:** see.\n```sightread\n/sentiment text:good\n```',
    );
    expect(checkNoteClaims(planted, isCheckable).badDerivations).toEqual([
      '224 / 16 = 14: 224 not backed by a source above it',
    ]);
  });

  it('rejects a source that says nowhere where to find it', () => {
    const planted = note(
      ['Somebody, a blog post | backs: 7,500'],
      'About 7,500 entries.\n\n**Try it:** see.\n```sightread\n/sentiment text:good\n```',
    );
    expect(checkNoteClaims(planted, isCheckable).badSources).toHaveLength(1);
  });

  it('reads names with digits as names, not claims, and ignores the fenced commands', () => {
    expect(figures(prose('ResNet-50 beside ViT-B/16 on ImageNet-21k, in int8.'))).toEqual([]);
    expect(figures(prose('ResNet-50 has 25.6 million parameters and 4,200 tweets.'))).toEqual(['25.6', '4200']);
    expect(figures(prose('Text.\n```sightread\n/tokenize text:2 + 2\n```'))).toEqual([]);
  });
});

describe('Try it: every command is one Discord accepts', () => {
  it.each(topics.map((topic) => [topic.id, topic] as const))('%s', (_id, topic) => {
    expect(topic.tryIt.commands.length).toBeGreaterThan(0);
    for (const line of topic.tryIt.commands) {
      expect(staticProblems(commands, line), line.line).toEqual([]);
      expect(topic.commands, `${topic.id}: front matter commands should list /${line.command}`).toContain(line.command);
    }
  });

  it('fails a planted wrong option name, a value Discord does not offer, and an unknown command', () => {
    const lines = note(
      [VADER_SOURCE],
      'Body.\n\n**Try it:** see.\n```sightread\n/classify image:giraffe.jpg models:both\n/classify image:giraffe.jpg model:mobilenetv2-int8\n/tokenize text:hi tokenizer:xlnet\n/classify model:both\n/classfy image:giraffe.jpg\n→ vader: positive\n/sentiment text:good\n→ vadr: positive\n```',
    ).tryIt.commands;
    const problems = lines.map((line) => staticProblems(commands, line));
    expect(problems[0]).toEqual([expect.stringContaining('/classify has no option "models"')]);
    expect(problems[1]).toEqual([expect.stringContaining('model:mobilenetv2-int8 is not one of both, cnn, vit')]);
    expect(problems[2]).toEqual([expect.stringContaining('tokenizer:xlnet is not one of all, bert, gpt2, clip')]);
    expect(problems[3]).toEqual([expect.stringContaining('image: an image attachment is required')]);
    expect(problems[4]).toEqual([expect.stringContaining('/classfy is not a slash command')]);
    expect(problems[5]).toEqual([expect.stringContaining('/sentiment has no subject "vadr"')]);
  });

  it('rejects a Try-it that is not machine-readable', () => {
    const body = (tryIt: string): string => `Body.\n\n${tryIt}`;
    expect(() => note([VADER_SOURCE], body('**Try it:** `/sentiment text:good` and compare.'))).toThrow(
      /planted\.md: Try it: .*no ```sightread block/,
    );
    expect(() =>
      note([VADER_SOURCE], body('**Try it:** run `/sentiment`.\n```sightread\n/sentiment text:good\n```')),
    ).toThrow(/not inline/);
    expect(() => note([VADER_SOURCE], body('**Try it:** see.\n```sightread\nsentiment good\n```'))).toThrow(
      /only \/commands/,
    );
    expect(() => note([VADER_SOURCE], body('**Try it:** see.\n```sightread\n/sentiment text:"good\n```'))).toThrow(
      /no closing quote/,
    );
    expect(() => note([VADER_SOURCE], body('See it.'))).toThrow(/last paragraph must be the "\*\*Try it:\*\*"/);
  });
});

describe('Try it: the commands run offline and what the notes claim about them holds', () => {
  const services = offlineServices();
  afterAll(async () => (await services).dispose());
  const runnable = topics.flatMap((topic) => topic.tryIt.commands.map((line) => [topic.id, line.line, line] as const));

  it.for(runnable)('%s: %s', async ([, , line], { skip }) => {
    const can = runnability(line);
    if (!can.run) return skip(can.reason);
    const command = commands.get(line.command) as SlashCommand;
    const outcome = await runThroughCli(command, line, await services);
    if ('skipped' in outcome) {
      // Only a claim about a model that is not here may go unchecked.
      const checkable = line.expectations.filter((e) => SUBJECTS[line.command]?.[e.subject] === true);
      expect(checkable, `${line.line}: ${outcome.skipped}`).toEqual([]);
      return skip(outcome.skipped);
    }
    for (const expectation of line.expectations) {
      if (!isCheckable(`${line.command}:${expectation.subject}`)) continue;
      expect(claimProblems(line.command, expectation, outcome.json)).toEqual([]);
    }
  });

  it('checks claims of every kind the notes make (so a parser that checks nothing cannot pass)', ({ skip }) => {
    if (!HAS_SHARED) return skip(SHARED_SKIP_REASON);
    const subjects = new Set(
      runnable.flatMap(([, , line]) =>
        line.expectations
          .filter((e) => isCheckable(`${line.command}:${e.subject}`))
          .map((e) => `${line.command}:${e.subject}`),
      ),
    );
    expect([...subjects].sort()).toEqual(
      expect.arrayContaining([
        'classify:mobilenetv2-int8',
        'sentiment:vader',
        'sentiment:note',
        'tokenize:bert',
        'tokenize:gpt2',
      ]),
    );
  });

  it('fails a planted wrong claim about the classic pipeline (which runs without ../shared)', async () => {
    const [line] = note(
      [VADER_SOURCE],
      'Body.\n\n**Try it:** see.\n```sightread\n/preprocess text:This movie is not good\n→ stopwords: movie not good\n→ vader: raw positive\n→ stem: movie → mov\n→ lemma: good → better\n```',
    ).tryIt.commands as [never];
    const outcome = await runThroughCli(commands.get('preprocess') as SlashCommand, line, await services);
    if (!('json' in outcome)) throw new Error(outcome.skipped);
    const problems = (line as { expectations: TryItExpectation[] }).expectations.flatMap((e) =>
      claimProblems('preprocess', e, outcome.json),
    );
    expect(problems).toEqual([
      expect.stringContaining('after stop-word removal: movie good'),
      expect.stringContaining('VADER says negative on the raw text'),
      expect.stringContaining('movie → movi'),
      expect.stringContaining('good → good'),
    ]);
  });

  it('fails a planted wrong claim', async ({ skip }) => {
    if (!HAS_SHARED) return skip(SHARED_SKIP_REASON);
    const [sentiment, tokenize, classify] = note(
      [VADER_SOURCE],
      'Body.\n\n**Try it:** see.\n```sightread\n/sentiment text:neither good nor bad\n→ vader: positive, compound +0.44, good +1.9\n/tokenize text:hello😀 world tokenizer:bert\n→ bert: [CLS] hello [UNK] world [SEP]\n/classify image:giraffe.jpg\n→ mobilenetv2-int8: giraffe 90%\n```',
    ).tryIt.commands as [never, never, never];
    const run = async (line: Parameters<typeof runThroughCli>[1]): Promise<string[]> => {
      const outcome = await runThroughCli(commands.get(line.command) as SlashCommand, line, await services);
      if (!('json' in outcome)) throw new Error(outcome.skipped);
      return line.expectations.flatMap((e) => claimProblems(line.command, e, outcome.json));
    };
    expect(await run(sentiment)).toEqual([
      expect.stringContaining('"positive" does not hold: VADER says negative'),
      expect.stringContaining('"compound +0.44" does not hold: compound is -0.5824'),
      expect.stringContaining('"good +1.9" does not hold: "good" moved VADER by -1.406'),
    ]);
    expect(await run(tokenize)).toEqual([expect.stringContaining('the pieces are [CLS] [UNK] world [SEP]')]);
    expect(await run(classify)).toEqual([expect.stringContaining('top-1 is zebra')]);
  });
});
