/**
 * Article 1 of the Universal Declaration of Human Rights in 16 languages and 13 scripts: the same
 * sentence everywhere, so differences in token counts are the tokenizers', not the content's.
 *
 * Source: the "UDHR in XML" project (https://efele.net/udhr, mirrored by unicode.org/udhr), files
 * `data/udhr/udhr_<key>.xml` of https://github.com/eric-muller/udhr at commit
 * f93dd614154c47fc4b85ec03d8d6f1abe97869ef, article number 1, paragraphs joined by a space,
 * otherwise verbatim. One edit: the Thai file carries an editorial correction in brackets
 * ("เกียรติศักด[เกียรติศักดิ์]"); the corrected word is kept. The translations are the OHCHR's.
 * Licence: the UDHR is a United Nations document whose text, in every translation, the OHCHR
 * lets anyone reproduce freely (https://www.ohchr.org/en/human-rights/universal-declaration/translations).
 */
export const PARALLEL_TEXT_SOURCE = {
  title: 'Universal Declaration of Human Rights, Article 1',
  url: 'https://github.com/eric-muller/udhr/tree/f93dd614154c47fc4b85ec03d8d6f1abe97869ef/data/udhr',
  licence: 'UN document; the OHCHR lets anyone reproduce its translations freely',
} as const;

export interface ParallelSentence {
  /** ISO 639-1. */
  code: string;
  name: string;
  script: string;
  /** The file of the UDHR-in-XML project it was taken from. */
  file: string;
  text: string;
}

export const UDHR_ARTICLE_1: readonly ParallelSentence[] = [
  {
    code: 'en',
    name: 'English',
    script: 'Latin',
    file: 'udhr_eng.xml',
    text: 'All human beings are born free and equal in dignity and rights. They are endowed with reason and conscience and should act towards one another in a spirit of brotherhood.',
  },
  {
    code: 'es',
    name: 'Spanish',
    script: 'Latin',
    file: 'udhr_spa.xml',
    text: 'Todos los seres humanos nacen libres e iguales en dignidad y derechos y, dotados como están de razón y conciencia, deben comportarse fraternalmente los unos con los otros.',
  },
  {
    code: 'de',
    name: 'German',
    script: 'Latin',
    file: 'udhr_deu_1996.xml',
    text: 'Alle Menschen sind frei und gleich an Würde und Rechten geboren. Sie sind mit Vernunft und Gewissen begabt und sollen einander im Geist der Brüderlichkeit begegnen.',
  },
  {
    code: 'vi',
    name: 'Vietnamese',
    script: 'Latin',
    file: 'udhr_vie.xml',
    text: 'Tất cả mọi người sinh ra đều được tự do và bình đẳng về nhân phẩm và quyền. Mọi con người đều được tạo hoá ban cho lý trí và lương tâm và cần phải đối xử với nhau trong tình bằng hữu.',
  },
  {
    code: 'sw',
    name: 'Swahili',
    script: 'Latin',
    file: 'udhr_swh.xml',
    text: 'Watu wote wamezaliwa huru, hadhi na haki zao ni sawa. Wote wamejaliwa akili na dhamiri, hivyo yapasa watendeane kindugu.',
  },
  {
    code: 'ru',
    name: 'Russian',
    script: 'Cyrillic',
    file: 'udhr_rus.xml',
    text: 'Все люди рождаются свободными и равными в своем достоинстве и правах. Они наделены разумом и совестью и должны поступать в отношении друг друга в духе братства.',
  },
  {
    code: 'el',
    name: 'Greek',
    script: 'Greek',
    file: 'udhr_ell_monotonic.xml',
    text: 'Όλοι οι άνθρωποι γεννιούνται ελεύθεροι και ίσοι στην αξιοπρέπεια και τα δικαιώματα. Είναι προικισμένοι με λογική και συνείδηση, και οφείλουν να συμπεριφέρονται μεταξύ τους με πνεύμα αδελφοσύνης.',
  },
  {
    code: 'ar',
    name: 'Arabic',
    script: 'Arabic',
    file: 'udhr_arb.xml',
    text: 'يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق. وقد وهبوا عقلاً وضميرًا وعليهم أن يعامل بعضهم بعضًا بروح الإخاء.',
  },
  {
    code: 'he',
    name: 'Hebrew',
    script: 'Hebrew',
    file: 'udhr_heb.xml',
    text: 'כל בני אדם נולדו בני חורין ושווים בערכם ובזכויותיהם. כולם חוננו בתבונה ובמצפון, לפיכך חובה עליהם לנהוג איש ברעהו ברוח של אחוה.',
  },
  {
    code: 'hi',
    name: 'Hindi',
    script: 'Devanagari',
    file: 'udhr_hin.xml',
    text: 'सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता और समानता प्राप्त है । उन्हें बुद्धि और अन्तरात्मा की देन प्राप्त है और परस्पर उन्हें भाईचारे के भाव से बर्ताव करना चाहिए ।',
  },
  {
    code: 'ta',
    name: 'Tamil',
    script: 'Tamil',
    file: 'udhr_tam.xml',
    text: 'மனிதப் பிறிவியினர் சகலரும் சுதந்திரமாகவே பிறக்கின்றனர்; அவர்கள் மதிப்பிலும், உரிமைகளிலும் சமமானவர்கள், அவர்கள் நியாயத்தையும் மனச்சாட்சியையும் இயற்பண்பாகப் பெற்றவர்கள். அவர்கள் ஒருவருடனொருவர் சகோதர உணர்வுப் பாங்கில் நடந்துகொள்ளல் வேண்டும்.',
  },
  {
    code: 'th',
    name: 'Thai',
    script: 'Thai',
    file: 'udhr_tha.xml',
    text: 'มนุษย์ทั้งหลายเกิดมามีอิสระและเสมอภาคกันในเกียรติศักดิ์และสิทธิ ต่างมีเหตุผลและมโนธรรม และควรปฏิบัติต่อกันด้วยเจตนารมณ์แห่งภราดรภาพ',
  },
  {
    code: 'zh',
    name: 'Chinese (Simplified)',
    script: 'Han',
    file: 'udhr_cmn_hans.xml',
    text: '人人生而自由,在尊严和权利上一律平等。他们赋有理性和良心,并应以兄弟关系的精神相对待。',
  },
  {
    code: 'ja',
    name: 'Japanese',
    script: 'Han + Kana',
    file: 'udhr_jpn.xml',
    text: 'すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。人間は、理性と良心とを授けられており、互いに同胞の精神をもって行動しなければならない。',
  },
  {
    code: 'ko',
    name: 'Korean',
    script: 'Hangul',
    file: 'udhr_kor.xml',
    text: '모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다. 인간은 천부적으로 이성과 양심을 부여받았으며 서로 형제애의 정신으로 행동하여야 한다.',
  },
  {
    code: 'am',
    name: 'Amharic',
    script: "Ge'ez (Ethiopic)",
    file: 'udhr_amh.xml',
    text: 'የሰው፡ልጅ፡ሁሉ፡ሲወለድ፡ነጻና፡በክብርና፡በመብትም፡እኩልነት፡ያለው፡ነው።፡የተፈጥሮ፡ማስተዋልና፡ሕሊና፡ስላለው፡አንዱ፡ሌላውን፡በወንድማማችነት፡መንፈስ፡መመልከት፡ይገባዋል።',
  },
];
