// The most frequent English function words: a text in English almost always contains several.
const COMMON_ENGLISH = new Set(
  (
    'the be to of and a in that have i it for not on with he as you do at this but his by from they we say her she or an will my one all ' +
    'would there their what so up out if about who get which go me when make can like time no just him know take people into year your ' +
    'good some could them see other than then now look only come its over think also back after use two how our work first well way even ' +
    'new want because any these give day most us is are was were been has had did am very really too love hate bad great movie film book ' +
    'im dont its thats cant wont isnt lol omg today'
  ).split(' '),
);

export interface LanguageGuess {
  mostlyEnglish: boolean;
  reason: string;
}

/**
 * A cheap check of whether a text is mostly English, enough to warn that an English lexicon
 * (VADER) is unreliable: the share of letters in Latin script, then the share of common English words.
 */
export function guessEnglish(text: string): LanguageGuess {
  const letters = [...text].filter((char) => /\p{L}/u.test(char));
  if (letters.length === 0) return { mostlyEnglish: true, reason: 'no letters' };
  const latin = letters.filter((char) => /\p{Script=Latin}/u.test(char)).length / letters.length;
  if (latin < 0.5)
    return {
      mostlyEnglish: false,
      reason: `${Math.round((1 - latin) * 100)}% of the letters are not in the Latin script`,
    };
  const words = text.toLowerCase().match(/\p{L}+/gu) ?? [];
  if (words.length < 4) return { mostlyEnglish: true, reason: 'too short to tell' };
  const english = words.filter((word) => COMMON_ENGLISH.has(word.replace(/'/g, ''))).length / words.length;
  return english >= 0.12
    ? { mostlyEnglish: true, reason: `${Math.round(english * 100)}% common English words` }
    : { mostlyEnglish: false, reason: `only ${Math.round(english * 100)}% of the words are common English words` };
}
