import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TRY_IT_FENCE, type Topic } from '../../../src/knowledge/topics.js';
import { ROOT } from '../../helpers.js';

/**
 * Names that contain digits but state nothing: models, datasets, formats, instruction sets. A
 * figure inside one of these is part of a name; every other figure in a note is a claim.
 */
const NAMES = [
  /\bResNet-\d+\b/g,
  /\bViT-[BLHG](?:\/\d+)?\b/g,
  /\bGPT-\d\b/g,
  /\bMobileNetV\d\b/gi,
  /\bmobilenetv2-int8\b/g,
  /\bvit-base-patch16-224\b/g,
  /\bclip-vit-base-patch32\b/g,
  /\bdistilbert-sst2\b/g,
  /\bgpt2\b/g,
  /\bSST-2\b/g,
  /\bImageNet-(?:1k|21k|C|v2)\b/g,
  /\bJFT-300M\b/g,
  /\bJFT-3B\b/g,
  /\bILSVRC-2012\b/g,
  /\bint8\b/g,
  /\bfp(?:16|32)\b/g,
  /\bq8\b/g,
  /\b(?:8|16|32)-bit\b/g,
  /\bAVX-512\b/g,
  /\bUTF-8\b/g,
  /\btop-\d+\b/g,
  /\bword2vec\b/g,
  /\bBLIP-2\b/g,
  /\bF1\b/g,
];

/** A figure as written: `4,200`, `−0.44`, `58.1%`, `16×16` (two figures), `2020`. */
const FIGURE = /\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?/g;

/** The figures of a text, normalised (`4,200` → `4200`), without their sign. */
export function figures(text: string): string[] {
  return (text.match(FIGURE) ?? []).map((figure) => figure.replace(/,/g, ''));
}

/** The note's prose: the body without its fenced Try-it commands and without the names above. */
export function prose(body: string): string {
  const lines: string[] = [];
  let inFence = false;
  for (const line of body.split('\n')) {
    if (line === TRY_IT_FENCE) inFence = true;
    else if (inFence && line === '```') inFence = false;
    else if (!inFence) lines.push(line);
  }
  return NAMES.reduce((text, name) => text.replace(name, ' '), lines.join('\n'));
}

export interface ParsedSource {
  text: string;
  /** A `derived: a × b = c; …` entry: arithmetic, not a reference. */
  derived: boolean;
}

const IDENTIFIER = /https?:\/\/\S+|arXiv:\d{4}\.\d{4,5}|doi:\S+/;
const REPO_PATH = /(?:^|\s)((?:src|bench|models|scripts|tests|prompts|commands)\/[\w./-]+)/;

/** What is wrong with one `sources:` entry: it must name where to look (URL, arXiv id, DOI or a file here). */
export function sourceProblems(entry: string): string[] {
  if (entry.startsWith('derived:')) return [];
  const citation = entry.split('| backs:')[0]!;
  if (IDENTIFIER.test(citation)) return [];
  const path = REPO_PATH.exec(citation)?.[1];
  if (path) return existsSync(join(ROOT, path)) ? [] : [`names ${path}, which is not in this repository`];
  return [`names no URL, arXiv id, DOI or file of this repository: ${entry}`];
}

/** `224 / 16 = 14`: evaluates the left side (× * / + − -, left to right, × and / first) and compares. */
export function checkEquation(equation: string): string | undefined {
  const [left, right] = equation.split('=').map((side) => side.trim());
  if (!left || !right) return `not an equation: ${equation}`;
  const tokens = left.replace(/,(?=\d{3})/g, '').match(/\d+(?:\.\d+)?|[×*/+−-]/g) ?? [];
  const values: number[] = [];
  const operators: string[] = [];
  const apply = (): void => {
    const b = values.pop()!;
    const a = values.pop()!;
    const op = operators.pop()!;
    values.push(op === '×' || op === '*' ? a * b : op === '/' ? a / b : op === '+' ? a + b : a - b);
  };
  const rank = (op: string): number => ('×*/'.includes(op) ? 2 : 1);
  for (const token of tokens) {
    if (/\d/.test(token)) values.push(Number(token));
    else {
      while (operators.length && rank(operators.at(-1)!) >= rank(token)) apply();
      operators.push(token);
    }
  }
  while (operators.length) apply();
  const expected = Number(right.replace(/,(?=\d{3})/g, ''));
  const decimals = right.split('.')[1]?.length ?? 0;
  if (values.length !== 1 || Number.isNaN(expected)) return `cannot evaluate: ${equation}`;
  return Math.abs(values[0]! - expected) <= 0.5 * 10 ** -decimals + 1e-9
    ? undefined
    : `${equation}: the left side is ${values[0]}`;
}

/** Subjects whose claims a test checks by running the command offline (see try-it.ts). */
export type CheckableSubject = (subject: string) => boolean;

export interface NoteClaimReport {
  /** Figures in the prose that no source, derivation or checked Try-it claim backs. */
  unbacked: string[];
  /** Author-year citations (`Jain and Wallace (2019)`) with no source naming that author and year. */
  uncited: string[];
  badSources: string[];
  badDerivations: string[];
}

const CITATION =
  /\b([A-Z][\p{L}'’-]+)(?:\s+et al\.?|,?\s+(?:[A-Z][\p{L}'’-]+,\s+)*(?:and|&)\s+[A-Z][\p{L}'’-]+)?[,\s]+\(?((?:19|20)\d{2})\b/gu;

/** Checks that every figure and author-year citation in a note's prose is backed by its sources. */
export function checkNoteClaims(
  topic: Pick<Topic, 'summary' | 'body' | 'sources' | 'tryIt'>,
  checkable: CheckableSubject,
): NoteClaimReport {
  // The summary is what the bot shows under results: its figures need sources as much as the body's.
  const text = prose(`${topic.summary}\n\n${topic.body}`);
  const references = topic.sources.filter((entry) => !entry.startsWith('derived:'));
  const derivations = topic.sources
    .filter((entry) => entry.startsWith('derived:'))
    .flatMap((entry) =>
      entry
        .slice('derived:'.length)
        .split(';')
        .map((part) => part.trim())
        .filter(Boolean),
    );
  const claimed = topic.tryIt.commands.flatMap((command) =>
    command.expectations.filter((e) => checkable(`${command.command}:${e.subject}`)).flatMap((e) => e.claims),
  );
  const backed = new Set([...references.flatMap(figures), ...claimed.flatMap(figures)]);
  // Operands a derivation may use without a source: doubling, the RGB channels, powers of ten.
  const constants = new Set(['1', '2', '3', '10', '100', '1000']);
  const badDerivations: string[] = [];
  for (const equation of derivations) {
    const problem = checkEquation(equation);
    if (problem) badDerivations.push(problem);
    const [left, right] = equation.split('=');
    const operands = figures(left ?? '');
    const missing = operands.filter((figure) => !backed.has(figure) && !constants.has(figure));
    if (missing.length) badDerivations.push(`${equation}: ${missing.join(', ')} not backed by a source above it`);
    for (const figure of [...operands, ...figures(right ?? '')]) backed.add(figure);
  }
  const unbacked = [...new Set(figures(text).filter((figure) => !backed.has(figure)))];
  const uncited: string[] = [];
  for (const match of text.matchAll(CITATION)) {
    const [whole, surname, year] = match;
    const named = references.some((entry) => new RegExp(`\\b${surname}\\b`).test(entry) && entry.includes(year!));
    if (!named) uncited.push(whole.trim());
  }
  return {
    unbacked,
    uncited,
    badSources: topic.sources.flatMap(sourceProblems),
    badDerivations,
  };
}
