/**
 * Words for the full-text index, in any language. Text is NFKC-normalised (full-width → half-width)
 * and lower-cased; runs of letters and digits are words, except runs in scripts written without
 * spaces (Chinese, Japanese, Thai, …), which Node's `Intl.Segmenter` splits (ICU's word breaker and
 * its dictionaries). Han words also give their single characters, so a query word the dictionary
 * splits differently from the document still meets it. (The segmenter only sees those runs, each at
 * most 256 characters: over long text its iteration slows down quadratically.) Common function words
 * (English: Lucene's stop list and question words; Chinese: particles and pronouns) are left out, as
 * search engines do: in a small folder "the" can be as rare as the word that matters.
 */
const segmenter = new Intl.Segmenter('zh', { granularity: 'word' });
const RUN = /[\p{L}\p{N}\p{M}]+(?:['’.][\p{L}\p{N}\p{M}]+)*/gu;
const NO_SPACES = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const HAN_WORD = /^\p{Script=Han}{2,}$/u;
const PIECE = 256;
const STOP = new Set(
  (
    'a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with ' +
    'what how who whom which why when where do does did i me my you your we our he she his her its about from have has had were been ' +
    'can could would should ' +
    '的 了 是 在 和 与 吗 呢 吧 啊 什么 怎么 哪里 哪 谁 为什么 我 你 他 她 它 这 那 个'
  ).split(' '),
);

function segment(run: string, out: string[]): void {
  for (let i = 0; i < run.length; i += PIECE) {
    for (const s of segmenter.segment(run.slice(i, i + PIECE))) {
      if (!s.isWordLike || STOP.has(s.segment)) continue;
      out.push(s.segment);
      if (HAN_WORD.test(s.segment)) for (const ch of s.segment) if (!STOP.has(ch)) out.push(ch);
    }
  }
}

export function words(text: string): string[] {
  const out: string[] = [];
  for (const m of text.normalize('NFKC').toLowerCase().matchAll(RUN)) {
    const run = m[0];
    if (NO_SPACES.test(run)) segment(run, out);
    else if (!STOP.has(run)) out.push(run);
  }
  return out;
}
