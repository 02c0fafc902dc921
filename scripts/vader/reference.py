#!/usr/bin/env python3
"""Scores sentences with the reference Python VADER and writes tests/fixtures/vader-reference.json.

A dev tool, not run in CI: tests/unit/text/vader.test.ts checks that src/text/vader.ts gives exactly
these numbers. It takes vaderSentiment from a local git clone (a bare one is fine) at the commit
released to PyPI as 3.3.2, and refuses to run if that commit's lexicons differ from models/vader/.

    python3 scripts/vader/reference.py --git-dir PATH/TO/vaderSentiment/.git \
        [--commit 0150f59077ad3b8d899eff5d4c9670747c2d54c2] \
        [--tweets ../shared/data/vader-icwsm2014/tweets_GroundTruth.txt]

With --tweets it also scores the 4,200 tweets of the VADER paper and stores their ids and four
scores (not their text, which stays in ../shared).
"""
import argparse
import hashlib
import importlib.util
import io
import json
import math
import os
import re
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_COMMIT = '0150f59077ad3b8d899eff5d4c9670747c2d54c2'  # 22 May 2020: what PyPI has as 3.3.2
DATA_FILES = ['vader_lexicon.txt', 'emoji_utf8_lexicon.txt']

# Crafted to reach every rule of vaderSentiment.py, grouped by the rule they exercise.
CASES = [
    # The README's examples (3.3.2's own output differs from the README for two of them).
    'VADER is smart, handsome, and funny.',
    'VADER is smart, handsome, and funny!',
    'VADER is very smart, handsome, and funny.',
    'VADER is VERY SMART, handsome, and FUNNY.',
    'VADER is VERY SMART, handsome, and FUNNY!!!',
    'VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!',
    'VADER is not smart, handsome, nor funny.',
    'The book was good.',
    "At least it isn't a horrible book.",
    'The book was only kind of good.',
    'The plot was good, but the characters are uncompelling and the dialog is not great.',
    'Today SUX!',
    "Today only kinda sux! But I'll get by, lol",
    'Make sure you :) or :D today!',
    'Catch utf-8 emoji such as 💘 and 💋 and 😁',
    'Not bad at all',
    # One-character words are words: they count as neutral and move the three-word windows.
    'I love it',
    'I am happy',
    'u r great',
    'A good day',
    'not a good day',
    'not a very good day',
    'l',
    'I x good',
    # Punctuation stripping: all ASCII punctuation at both ends, unless two characters or fewer remain.
    '(good)',
    "'good'",
    'good...',
    '--sad--',
    'ok!',
    'ok',
    ':) :-) :D <3 :( ;)',
    '"great",',
    '!!!',
    '?!?! good',
    'x! hi! :P',
    # Whitespace as Python splits it: tabs, newlines, no-break space, U+0085.
    'good\tday\nbad',
    'good\u00a0day',
    'good\u0085bad',
    '  padded good  ',
    # Emoji: replaced by their descriptions; a description runs into the next word; unknown sequences stay.
    '😀😀😀',
    '😀🎉🔥',
    'I ❤ you',
    '💔',
    '😁good',
    'good😁',
    '😁 😁!',
    '🔛 good',
    '©2020 great',
    '❤️ love',
    '🇫🇷 flag',
    '👍🏽 nice',
    # Idioms (SPECIAL_CASES), which apply only to a word with three words before it.
    'the bomb',
    'This movie is the bomb',
    'This movie is the bomb dude',
    'that was the shit',
    'oh yeah right, great idea',
    'it was the kiss of death for us',
    'this cake is to die for',
    'I heard my beating heart',
    'I have a broken heart',
    'he is a bad ass',
    'waiting at the bus stop happily',
    'we tried to cut the mustard',
    # Dampeners as phrases: "kind of", "sort of", "just enough".
    'kind of good',
    'It is kind of bad',
    'The food is sort of nice',
    'The movie was just enough fun',
    'so kind of you',
    'kind',
    'kinda good',
    'it was KINDA good, ok',
    # Boosters and dampeners, near and far, positive and negative.
    'very good',
    'very very good',
    'really quite good',
    'extremely bad',
    'somewhat bad',
    'barely good',
    'the really very nice day',
    'VERY bad day',
    'it is VERY good, ok',
    'so good fun',
    # Negation: NEGATE words, "n't" contractions, at one, two and three words away.
    'not good',
    'not very good',
    'not so bad',
    "isn't good",
    'It isnt bad',
    "I can't stand it",
    'wouldnt recommend it, awful',
    "don't like",
    "ain't nothing wrong",
    'never good',
    'not the best at all',
    'not at all a good idea',
    'without good reason',
    'nobody is happy',
    'rarely bad, seldom sad',
    # "never so" / "never this" emphasise; "so" or "this" right before a word emphasises too.
    'I have never been so happy',
    'never so good',
    'never this happy',
    'The movie so good',
    'never so very good',
    'it was this bad',
    # "without doubt" is not a negation.
    'without doubt the best',
    'without a doubt good',
    'without doubt good',
    # "least": negates, except after "at" or "very".
    'the least good',
    'least good',
    'at least good',
    'the very least bad',
    'This is at least good',
    # "no": a negation before a lexicon word, and a negative word on its own.
    'no',
    'no good',
    'No problem',
    'no no good',
    'there is no love or hate',
    'there is no love nor hate',
    'no one is happy',
    'no way I am happy',
    'NO GOOD at all, FINE',
    'no, this is great',
    # "but": before it ×0.5, after it ×1.5; the first "but" counts, in any case.
    'good but bad',
    'Good BUT terrible',
    'but good',
    'good but',
    'bad but good but bad',
    'good good but good',
    # The reference's list.index() finds the first equal valence, so equal valences misplace the factor.
    'heart but (-:',
    'but :) rotflol',
    'happy but happy and happy',
    # ALL CAPS among other words adds C_INCR; all words in caps add nothing.
    'GOOD',
    'GOOD day',
    'GOOD DAY',
    'I AM HAPPY',
    'NOT GOOD, ok',
    'ÉLÉGANT and good',
    'ÇA VA, good',
    # Punctuation emphasis: up to four "!", two or three "?" each, four or more "?" a fixed amount.
    'good!',
    'good!!!',
    'good!!!!!!',
    'good?',
    'good??',
    'good???',
    'good????',
    'good?!?!',
    'bad!!!',
    'what??',
    'good! bad!',
    # Lexicon entries that can never match (capitals, spaces), and booster words that are lexicon words.
    'XD :D',
    "can't stand this",
    'fed up',
    'the lol lmao',
    # Empty and whitespace-only text.
    '',
    '   ',
]

# Values to round as Python does: exact ties (odd multiples of 2^-(digits+1)) go to the even digit.
ROUNDING = [
    (0.0625, 3), (0.1875, 3), (0.3125, 3), (0.4375, 3), (-0.0625, 3), (0.9375, 3),
    (0.03125, 4), (0.09375, 4), (-0.03125, 4), (0.15625, 4),
    (2.675, 2), (1.0005, 3), (0.00015, 4), (-0.00001, 4), (-0.00004, 3), (0.5, 0), (1.5, 0), (2.5, 0),
    (0.8316, 4), (0.1 + 0.2, 3), (1 / 3, 3), (2 / 3, 4), (-2 / 3, 4), (0.9999999, 4), (0.99995, 4),
]


def git_archive(git_dir, commit):
    """The vaderSentiment/ folder of the repository at that commit, as {name: bytes}."""
    tar = subprocess.run(['git', '--git-dir', git_dir, 'archive', '--format=tar', commit, 'vaderSentiment'],
                         check=True, capture_output=True).stdout
    files = {}
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        for member in archive.getmembers():
            if member.isfile():
                files[os.path.basename(member.name)] = archive.extractfile(member).read()
    return files


def load_analyzer(files, directory):
    """Imports vaderSentiment.py from a temporary folder (it reads its lexicons from beside itself)."""
    for name, content in files.items():
        with open(os.path.join(directory, name), 'wb') as f:
            f.write(content)
    spec = importlib.util.spec_from_file_location('vader_reference', os.path.join(directory, 'vaderSentiment.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SentimentIntensityAnalyzer()


def read_tweets(path):
    """The ground-truth file as src/text/sentiment-eval.ts parseGroundTruth reads it: Latin-1, id<TAB>rating<TAB>text."""
    with open(path, 'rb') as f:
        raw = f.read()
    rows = []
    for line in re.split(r'\r?\n', raw.decode('latin-1')):
        if line.strip() == '':
            continue
        columns = line.split('\t')
        if len(columns) < 3 or not columns[0]:
            continue
        try:
            rating = float(columns[1])
        except ValueError:
            continue
        if not math.isfinite(rating):
            continue
        rows.append((columns[0], '\t'.join(columns[2:])))
    return rows, hashlib.sha256(raw).hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--git-dir', required=True, help='a clone of github.com/cjhutto/vaderSentiment (its .git folder, or a bare clone)')
    parser.add_argument('--commit', default=DEFAULT_COMMIT)
    parser.add_argument('--tweets', help='tweets_GroundTruth.txt of the VADER paper, to include its scores')
    parser.add_argument('--out', default=os.path.join(ROOT, 'tests/fixtures/vader-reference.json'))
    args = parser.parse_args()

    commit = subprocess.run(['git', '--git-dir', args.git_dir, 'rev-parse', args.commit + '^{commit}'],
                            check=True, capture_output=True, text=True).stdout.strip()
    files = git_archive(args.git_dir, commit)
    for name in DATA_FILES:
        with open(os.path.join(ROOT, 'models/vader', name), 'rb') as f:
            if f.read() != files[name]:
                sys.exit(f'models/vader/{name} differs from {name} at {commit}: update one or the other first')

    with tempfile.TemporaryDirectory() as directory:
        analyzer = load_analyzer(files, directory)
        cases = [{'text': text, **analyzer.polarity_scores(text)} for text in CASES]
        tweets = None
        if args.tweets:
            rows, sha256 = read_tweets(args.tweets)
            tweets = {
                'file': os.path.basename(args.tweets),
                'sha256': sha256,
                'scores': [{'id': tweet_id, **analyzer.polarity_scores(text)} for tweet_id, text in rows],
            }

    def row(scores):
        return json.dumps(scores, ensure_ascii=False, separators=(', ', ': '))

    # One case per line keeps the diff of a regenerated file readable.
    out = ['{',
           f'  "source": {json.dumps(f"vaderSentiment 3.3.2 {commit}")},',
           '  "generator": "scripts/vader/reference.py",',
           '  "cases": [',
           ',\n'.join(f'    {row({key: case[key] for key in ("text", "neg", "neu", "pos", "compound")})}' for case in cases),
           '  ],',
           '  "rounding": [',
           ',\n'.join(f'    {row({"value": value, "digits": digits, "python": round(value, digits)})}' for value, digits in ROUNDING),
           '  ]' + (',' if tweets else '')]
    if tweets:
        out += [f'  "tweets": {{"file": {json.dumps(tweets["file"])}, "sha256": {json.dumps(tweets["sha256"])}, "scores": [',
                ',\n'.join(f'    {row({key: score[key] for key in ("id", "neg", "neu", "pos", "compound")})}' for score in tweets['scores']),
                '  ]}']
    out.append('}')
    with open(args.out, 'w', encoding='utf-8') as f:
        f.write('\n'.join(out) + '\n')
    print(f'{args.out}: {len(cases)} cases' + (f', {len(tweets["scores"])} tweets' if tweets else '') + f' from {commit}')


if __name__ == '__main__':
    main()
