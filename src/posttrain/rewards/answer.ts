/**
 * Reading and comparing final answers, for rule-based rewards (DeepSeek-R1 §2.2.2: "the model is
 * required to provide the final answer in a specified format … enabling reliable rule-based
 * verification of correctness"). The answer of a completion is, in order of preference: the last
 * `<answer>…</answer>`, the last `\boxed{…}`, else the text after `</think>`.
 */

/** The final answer a completion gives, or null when it gives none it can be read from. */
export function extractAnswer(completion: string): string | null {
  const tags = [...completion.matchAll(/<answer>([\s\S]*?)<\/answer>/g)];
  if (tags.length > 0) return tags[tags.length - 1]![1]!.trim();
  const boxed = lastBoxed(completion);
  if (boxed !== null) return boxed.trim();
  const end = completion.lastIndexOf('</think>');
  if (end >= 0) {
    const rest = completion.slice(end + '</think>'.length).trim();
    return rest === '' ? null : rest;
  }
  return null;
}

/** The content of the last \boxed{…}, braces balanced. */
function lastBoxed(s: string): string | null {
  const at = s.lastIndexOf('\\boxed{');
  if (at < 0) return null;
  let depth = 0;
  for (let i = at + '\\boxed'.length; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return s.slice(at + '\\boxed{'.length, i);
  }
  return null;
}

/**
 * A number written as an integer, decimal, fraction (3/4), with thousands separators (1,000), a sign,
 * or a trailing period or percent sign; null when `s` is not just a number.
 */
export function parseNumber(s: string): number | null {
  const t = s
    .trim()
    .replace(/^\$|\$$/g, '')
    .replace(/\.$/, '')
    .trim();
  const frac = /^([-+]?\d+)\s*\/\s*(\d+)$/.exec(t);
  if (frac) return Number(frac[2]) === 0 ? null : Number(frac[1]) / Number(frac[2]);
  if (!/^[-+]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?%?$/.test(t) || !/\d/.test(t)) return null;
  const n = Number(t.replace(/,/g, '').replace(/%$/, ''));
  return Number.isFinite(n) ? n : null;
}

/** Whitespace collapsed, case kept (answers such as names are compared exactly, not fuzzily). */
function normalise(s: string): string {
  return s.trim().replace(/\s+/g, ' ');
}

/**
 * Whether `given` answers `expected`: equal numbers (relative tolerance 1e-9, so 0.5 = 1/2 = 0.50)
 * when both read as numbers, else equal text after collapsing whitespace.
 */
export function answersMatch(given: string, expected: string): boolean {
  const a = parseNumber(given);
  const b = parseNumber(expected);
  if (a !== null && b !== null) return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  return normalise(given) === normalise(expected);
}
