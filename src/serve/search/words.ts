/**
 * Words for the full-text index, in any language: Node's `Intl.Segmenter` (ICU's word breaker, with
 * its dictionary for Chinese and Japanese, which have no spaces) splits the text; words are
 * NFKC-normalised (full-width → half-width) and lower-cased. Han runs also give their single
 * characters, so a query word the dictionary splits differently from the document still meets it.
 */
const segmenter = new Intl.Segmenter('zh', { granularity: 'word' });
const HAN_RUN = /^\p{Script=Han}{2,}$/u;

export function words(text: string): string[] {
  const out: string[] = [];
  for (const s of segmenter.segment(text.normalize('NFKC'))) {
    if (!s.isWordLike) continue;
    const w = s.segment.toLowerCase();
    out.push(w);
    if (HAN_RUN.test(w)) for (const ch of w) out.push(ch);
  }
  return out;
}
