/**
 * NLTK's English stop-word list, the one tutorials use (`nltk.corpus.stopwords.words('english')`):
 * 179 words, copied in NLTK's order from the `stopwords` package of nltk_data
 * (github.com/nltk/nltk_data, packages/corpora/stopwords.zip, file stopwords/english, dated
 * 2017-10-01; md5 36ea91108f7b0f89478b377b815919bb). Its README says the lists came from the
 * Snowball project's stop lists, the English one "augmented" (nltk_data issue 22).
 *
 * It holds "not", "no", "nor" and the contractions' stems ("isn", "didn", "don't"), so removing
 * stop words removes negation, while "n't", the Treebank tokenizer's half of "isn't", is not on it.
 */
// prettier-ignore
export const NLTK_ENGLISH_STOP_WORDS: readonly string[] = [
  'i', 'me', 'my', 'myself', 'we', 'our', 'ours', 'ourselves', 'you', "you're", "you've", "you'll", "you'd", 'your',
  'yours', 'yourself', 'yourselves', 'he', 'him', 'his', 'himself', 'she', "she's", 'her', 'hers', 'herself', 'it',
  "it's", 'its', 'itself', 'they', 'them', 'their', 'theirs', 'themselves', 'what', 'which', 'who', 'whom', 'this',
  'that', "that'll", 'these', 'those', 'am', 'is', 'are', 'was', 'were', 'be', 'been', 'being', 'have', 'has', 'had',
  'having', 'do', 'does', 'did', 'doing', 'a', 'an', 'the', 'and', 'but', 'if', 'or', 'because', 'as', 'until',
  'while', 'of', 'at', 'by', 'for', 'with', 'about', 'against', 'between', 'into', 'through', 'during', 'before',
  'after', 'above', 'below', 'to', 'from', 'up', 'down', 'in', 'out', 'on', 'off', 'over', 'under', 'again',
  'further', 'then', 'once', 'here', 'there', 'when', 'where', 'why', 'how', 'all', 'any', 'both', 'each', 'few',
  'more', 'most', 'other', 'some', 'such', 'no', 'nor', 'not', 'only', 'own', 'same', 'so', 'than', 'too', 'very',
  's', 't', 'can', 'will', 'just', 'don', "don't", 'should', "should've", 'now', 'd', 'll', 'm', 'o', 're', 've',
  'y', 'ain', 'aren', "aren't", 'couldn', "couldn't", 'didn', "didn't", 'doesn', "doesn't", 'hadn', "hadn't", 'hasn',
  "hasn't", 'haven', "haven't", 'isn', "isn't", 'ma', 'mightn', "mightn't", 'mustn', "mustn't", 'needn', "needn't",
  'shan', "shan't", 'shouldn', "shouldn't", 'wasn', "wasn't", 'weren', "weren't", 'won', "won't", 'wouldn',
  "wouldn't",
];

const STOP_WORDS = new Set(NLTK_ENGLISH_STOP_WORDS);

/** Whether a lowercased token is on NLTK's English stop-word list. */
export const isStopWord = (token: string): boolean => STOP_WORDS.has(token);
