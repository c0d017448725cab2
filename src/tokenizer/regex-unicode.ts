/**
 * Unicode pieces of the Oniguruma → JavaScript regex translation (see regex.ts): what Oniguruma's
 * shorthand classes and property names mean, written as JavaScript class contents, and the case
 * variants of a character for emulating `(?i)`.
 *
 * Oniguruma (the engine HF tokenizers uses) gives `\s \d \w \b` their Unicode meaning, while
 * JavaScript keeps them ASCII-only (or, for `\s`, a slightly different set) even with the `u` flag.
 */
import { TokenizerError } from './errors.ts';

/** Class bodies (the text between `[` and `]`) for Oniguruma's Unicode shorthands. */
export const SHORTHAND_BODY: Readonly<Record<string, string>> = {
  // Oniguruma \s: U+0009..U+000D, U+0085 and General_Category Z (Zs, Zl, Zp). JavaScript's \s lacks
  // U+0085 and adds U+FEFF.
  s: '\\t-\\r\\x85\\p{Z}',
  // Oniguruma \d: General_Category Nd (JavaScript: ASCII digits only).
  d: '\\p{Nd}',
  // Oniguruma \w: Letter | Mark | Decimal_Number | Connector_Punctuation.
  w: '\\p{L}\\p{M}\\p{Nd}\\p{Pc}',
  // Oniguruma \h: a hexadecimal digit (not horizontal space, as in Perl).
  h: '0-9a-fA-F',
};

/** POSIX bracket names (`[[:alpha:]]`, `\p{Alpha}`) with their Unicode meaning in Oniguruma. */
const POSIX_BODY: Readonly<Record<string, string>> = {
  alpha: '\\p{Alphabetic}',
  digit: '\\p{Nd}',
  alnum: '\\p{Alphabetic}\\p{Nd}',
  upper: '\\p{Uppercase}',
  lower: '\\p{Lowercase}',
  space: '\\p{White_Space}',
  blank: '\\p{Zs}\\t',
  cntrl: '\\p{Cc}',
  // Oniguruma ≥ 6.9.4 adds the ASCII symbols $ + < = > ^ ` | ~ to Unicode punctuation.
  punct: '\\p{P}\\x24\\x2b\\x3c-\\x3e\\x5e\\x60\\x7c\\x7e',
  xdigit: '0-9a-fA-F',
  word: SHORTHAND_BODY.w!,
  print: '\\P{C}\\p{Zs}',
  graph: '\\P{C}',
  ascii: '\\x00-\\x7f',
  any: '\\u{0}-\\u{10FFFF}',
};

/** Canonical JavaScript names of the general categories, keyed by their loose (lower-case) forms. */
const GENERAL_CATEGORIES = new Map<string, string>();
for (const [short, long] of Object.entries({
  L: 'Letter',
  Lu: 'Uppercase_Letter',
  Ll: 'Lowercase_Letter',
  Lt: 'Titlecase_Letter',
  LC: 'Cased_Letter',
  Lm: 'Modifier_Letter',
  Lo: 'Other_Letter',
  M: 'Mark',
  Mn: 'Nonspacing_Mark',
  Mc: 'Spacing_Mark',
  Me: 'Enclosing_Mark',
  N: 'Number',
  Nd: 'Decimal_Number',
  Nl: 'Letter_Number',
  No: 'Other_Number',
  P: 'Punctuation',
  Pc: 'Connector_Punctuation',
  Pd: 'Dash_Punctuation',
  Ps: 'Open_Punctuation',
  Pe: 'Close_Punctuation',
  Pi: 'Initial_Punctuation',
  Pf: 'Final_Punctuation',
  Po: 'Other_Punctuation',
  S: 'Symbol',
  Sm: 'Math_Symbol',
  Sc: 'Currency_Symbol',
  Sk: 'Modifier_Symbol',
  So: 'Other_Symbol',
  Z: 'Separator',
  Zs: 'Space_Separator',
  Zl: 'Line_Separator',
  Zp: 'Paragraph_Separator',
  C: 'Other',
  Cc: 'Control',
  Cf: 'Format',
  Cs: 'Surrogate',
  Co: 'Private_Use',
  Cn: 'Unassigned',
})) {
  GENERAL_CATEGORIES.set(short.toLowerCase(), short);
  GENERAL_CATEGORIES.set(loose(long), short);
}

/** Oniguruma compares property names ignoring case, spaces, '-' and '_'. */
function loose(name: string): string {
  return name.replace(/[\s_-]/g, '').toLowerCase();
}

function compiles(source: string): boolean {
  try {
    new RegExp(source, 'u');
    return true;
  } catch {
    return false;
  }
}

/**
 * Class-body text for Oniguruma property `\p{name}`: general categories map to themselves, POSIX
 * names to their Unicode meaning, anything else is tried as a JavaScript binary property and then as
 * a script (`\p{Han}` → `\p{Script=Han}`). Negation (`\P{..}`, `\p{^..}`) is the caller's business.
 */
export function propertyBody(name: string): string {
  const key = loose(name);
  const gc = GENERAL_CATEGORIES.get(key);
  if (gc !== undefined) return `\\p{${gc}}`;
  const posix = POSIX_BODY[key];
  if (posix !== undefined) return posix;
  for (const candidate of [name, `Script=${name}`, `Script=${titleCase(name)}`]) {
    if (compiles(`\\p{${candidate}}`)) return `\\p{${candidate}}`;
  }
  throw new TokenizerError(`unsupported Unicode property \\p{${name}} in tokenizer regex`);
}

function titleCase(name: string): string {
  return name.toLowerCase().replace(/(^|_)([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase());
}

/** Class body for a POSIX bracket `[:name:]` (positive; the caller handles `[:^name:]`). */
export function posixBody(name: string): string {
  const body = POSIX_BODY[loose(name)];
  if (body === undefined) throw new TokenizerError(`unknown POSIX bracket [:${name}:] in tokenizer regex`);
  return body;
}

const variantCache = new Map<number, number[]>();

/**
 * All code points that match `cp` case-insensitively under Unicode simple case folding — e.g. 'k'
 * gives k, K and U+212A KELVIN SIGN; 's' gives s, S and U+017F LONG S. Computed once per character by
 * asking the engine itself (`/x/iu`) over all code points, so it agrees with Unicode's CaseFolding.txt
 * (C + S entries); multi-character folds (ß ↔ "ss") are not emulated.
 */
export function caseVariants(cp: number): number[] {
  let hit = variantCache.get(cp);
  if (hit) return hit;
  const ch = String.fromCodePoint(cp);
  if (ch.toLowerCase() === ch.toUpperCase() && !/\p{Lowercase}|\p{Uppercase}/u.test(ch)) {
    hit = [cp];
  } else {
    const re = new RegExp(`^[${escapeClassChar(cp)}]$`, 'iu');
    hit = [];
    for (let c = 0; c <= 0x1ffff; c++) {
      if (c === 0xd800) c = 0xe000;
      if (re.test(String.fromCodePoint(c))) hit.push(c);
    }
  }
  variantCache.set(cp, hit);
  return hit;
}

/** A code point written so that it is literal inside a `u`-mode class (escapes punctuation as \u{..}). */
export function escapeClassChar(cp: number): string {
  const ch = String.fromCodePoint(cp);
  return /[\p{L}\p{N}]/u.test(ch) ? ch : `\\u{${cp.toString(16)}}`;
}
