import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAskPrompt } from '../../../src/knowledge/ask.js';
import {
  REFERENCED_TOPICS,
  explainClassification,
  explainMatch,
  explainSentiment,
  explainTokenization,
} from '../../../src/knowledge/explanations.js';
import { TopicRetriever } from '../../../src/knowledge/retriever.js';
import { loadTopics, parseTopic, suggestTopics } from '../../../src/knowledge/topics.js';
import type { Classification } from '../../../src/vision/classifier.js';
import { ROOT } from '../../helpers.js';

const topics = loadTopics();
const commandNames = new Set(readdirSync(join(ROOT, 'commands')).map((file) => file.replace(/\.ts$/, '')));

describe('the knowledge base in prompts/topics', () => {
  it('has 15–30 notes with valid front matter and unique ids', () => {
    expect(topics.size).toBeGreaterThanOrEqual(15);
    expect(topics.size).toBeLessThanOrEqual(30);
    expect(new Set([...topics.values()].map((topic) => topic.id)).size).toBe(topics.size);
  });

  it.each([...topics.values()].map((topic) => [topic.id, topic] as const))(
    'note %s is 150–400 words, ends with something to try, and fits one embed',
    (_id, topic) => {
      expect(topic.words).toBeGreaterThanOrEqual(150);
      expect(topic.words).toBeLessThanOrEqual(400);
      // The closing "Try it" and its commands are parsed (and run) in notes.test.ts.
      expect(topic.body.endsWith('```')).toBe(true);
      expect(topic.tryIt.prose).toMatch(/^\*\*Try it:\*\* /);
      expect(topic.body.length).toBeLessThanOrEqual(4096);
      expect(topic.file).toBe(`${topic.id}.md`);
      for (const command of topic.commands)
        expect(commandNames.has(command), `${topic.id} names /${command}`).toBe(true);
    },
  );

  it('contains every topic the code points to', () => {
    for (const id of REFERENCED_TOPICS) expect(topics.has(id), id).toBe(true);
  });

  it('rejects a note with bad front matter, naming the file and the field', () => {
    expect(() => parseTopic('bad.md', '---\nid: Bad Id\ntitle: x\n---\nbody')).toThrow(
      /bad\.md: id: must be lowercase.*title/,
    );
    expect(() => parseTopic('none.md', 'no front matter')).toThrow(/none\.md: missing front matter/);
  });

  it('keeps the user question out of the system prompt of the /ask template', () => {
    const prompt = loadAskPrompt();
    expect(prompt.inputVariables.sort()).toEqual(['notes', 'question']);
  });

  it('suggests topics by title, id and keyword while typing', () => {
    expect(suggestTopics(topics, 'quant')[0]?.value).toBe('quantization');
    expect(suggestTopics(topics, 'swin').map((s) => s.value)).toContain('transformers-converge');
    expect(suggestTopics(topics, '').length).toBe(topics.size);
    expect(suggestTopics(topics, 'zzzz')).toEqual([]);
  });
});

describe('retrieval quality', () => {
  const retriever = new TopicRetriever(topics.values());
  const questions: Array<[string, string]> = [
    ['Why do vision transformers need more data than CNNs?', 'cnn-vs-vit'],
    ['What is the difference between stemming and lemmatization?', 'text-preprocessing'],
    ['How does CLIP classify images it was never trained on?', 'clip-zero-shot'],
    ['Why does int8 make inference faster on my CPU?', 'quantization'],
    ['Does VADER really score "not bad at all" as negative?', 'vader-myths'],
    ['How does BPE split a rare word into pieces?', 'tokenization-vs-patches'],
    ['What do scaling laws say about data and compute?', 'scaling-laws'],
    ['How does MAE learn by masking image patches?', 'self-supervised-pretraining'],
    ['What are the shifted windows in Swin?', 'transformers-converge'],
    ['Why did LSTMs give way to transformers?', 'rnn-vs-transformer'],
    ['Can I trust an attention map as an explanation?', 'interpretability'],
    ['Why is the classifier so sure about a giraffe photo?', 'imagenet-labels'],
    ['What happens to accuracy under distribution shift and noise?', 'robustness'],
    ['Why does sentiment analysis only work in English?', 'language-specificity'],
    ['Why do I have to normalize images with a mean and std?', 'image-preprocessing'],
    ['Does a 90% softmax score mean the model is 90% sure?', 'softmax-confidence'],
    ['What does an image model actually see, pixels or tokens?', 'pixels-vs-tokens'],
    ['How does sarcasm fool a lexicon sentiment model?', 'lexicon-vs-learned-sentiment'],
    ['What is an embedding vector and cosine similarity?', 'embeddings'],
  ];
  it.each(questions)('"%s" retrieves %s in the top 3', (question, expected) => {
    expect(retriever.search(question, 3).map((passage) => passage.topicId)).toContain(expected);
  });
});

describe('contextual explanations', () => {
  const classification = (label: string, score: number): Classification =>
    ({ predictions: [{ label, score, index: 0 }] }) as unknown as Classification;
  const agreement = (top1Agrees: boolean) => ({ top1Agrees, sharedInTopK: 1, overlap: 0.2, summary: '' });

  it('explains inductive biases when the CNN and the ViT disagree', () => {
    expect(
      explainClassification({
        agreement: agreement(false),
        results: [classification('a', 0.9), classification('b', 0.8)],
      }).topic,
    ).toBe('cnn-vs-vit');
  });

  it('explains calibration when every model is unsure, and pixels vs tokens otherwise', () => {
    expect(
      explainClassification({
        agreement: agreement(true),
        results: [classification('a', 0.2), classification('a', 0.25)],
      }).topic,
    ).toBe('softmax-confidence');
    const usual = explainClassification({
      agreement: agreement(true),
      results: [classification('a', 0.9), classification('a', 0.7)],
    });
    expect(usual.topic).toBe('pixels-vs-tokens');
    expect(usual.text).toContain(topics.get('pixels-vs-tokens')!.summary);
    expect(usual.text).toContain('/explain topic:pixels-vs-tokens');
  });

  it('points nearly flat CLIP scores to calibration and clear ones to CLIP', () => {
    expect(explainMatch({ matches: [{ score: 0.36 }, { score: 0.33 }, { score: 0.31 }] as never }).topic).toBe(
      'softmax-confidence',
    );
    expect(explainMatch({ matches: [{ score: 0.9 }, { score: 0.1 }] as never }).topic).toBe('clip-zero-shot');
  });

  it('chooses language-specificity for foreign text and tokenization for heavily split words', () => {
    expect(explainSentiment({ notes: ['This text looks mostly non-English (…)'] }).topic).toBe('language-specificity');
    expect(explainSentiment({ notes: [] }).topic).toBe('lexicon-vs-learned-sentiment');
    expect(explainTokenization([{ splits: [{ pieces: ['una', '##ffa', '##ble'] }], unknownCount: 0 }]).topic).toBe(
      'tokenization-vs-patches',
    );
    expect(explainTokenization([{ splits: [], unknownCount: 0 }]).topic).toBe('pixels-vs-tokens');
  });
});
