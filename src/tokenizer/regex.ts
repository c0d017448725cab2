/**
 * Oniguruma → JavaScript regex translator.
 *
 * HF tokenizers compiles the `Split` pre-tokenizer patterns of tokenizer.json with Oniguruma (the
 * onig crate: ONIG_SYNTAX_ONIGURUMA, no options, UTF-8 — so `\s \d \w` are Unicode, `^ $` are line
 * anchors, `.` excludes only LF). JavaScript's RegExp reads most of them unchanged, but differs in ways that change
 * which text matches, or refuses to compile. This translator rewrites a pattern so that V8 (Node 20,
 * which has no inline modifiers) matches what Oniguruma matches:
 *
 * | Oniguruma                         | JavaScript emitted                                              |
 * | --------------------------------- | --------------------------------------------------------------- |
 * | `(?i:…)`, `(?i)…`, `(?-i)`        | case variants spelled out: `s` → `[sSſ]` (simple case folding)  |
 * | `X*+ X++ X?+` (possessive)        | `(?:(?=(?<a>X*))\k<a>)` — the standard atomic-group emulation   |
 * | `(?>X)` (atomic group)            | `(?:(?=(?<a>X))\k<a>)`                                          |
 * | `X{n,m}+`, `X{n}?`                | `(?:X{n,m})+`, `(?:X{n})?` (Oniguruma syntax: a second repeat)  |
 * | `X{,m}`                           | `X{0,m}`                                                        |
 * | `\s \d \w \h` and negations        | their Unicode sets (`\s` = [\t-\r\x85\p{Z}], `\d` = \p{Nd}, …)  |
 * | `\b \B`                           | lookarounds over the Unicode `\w` set                           |
 * | `\p{Han}` `\p{^L}` `\pL` `\p{Alpha}` | `\p{Script=Han}` `\P{L}` `\p{L}` `\p{Alphabetic}`            |
 * | `[[:alpha:]]`, `[a[b]]`, `[a&&b]` | POSIX names expanded; nested sets / intersection via the `v` flag |
 * | `.`                               | `[^\n]` (Oniguruma's dot excludes only LF; JavaScript's also CR) |
 * | `^ $` (line anchors in Oniguruma)  | `(?<![^\n])` `(?![^\n])`                                      |
 * | `\A \z \Z`                        | `(?<![\s\S])` `(?![\s\S])` `(?=\n?(?![\s\S]))`                  |
 * | `\x{263A}`, `\h`, `\R`, `\e`, `\a` | `\u{263A}`, `[0-9a-fA-F]`, line-break alternation, `\x1b`, `\x07` |
 * | `\"`, `\'`, `\-` … (identity escapes), bare `{` `}` `]` | the literal character, escaped as `u` mode demands |
 * | `(X)` when no back-reference exists | `(?:X)` (splitting only needs the whole match; captures cost time) |
 *
 * Not emulated (a TokenizerError names the construct): subexpression calls `\g<…>`, `\K`, `\G`,
 * `\X`, absent operator `(?~…)`, conditionals, inline flags other than `i`, control/meta escapes, and
 * multi-character case folds (`(?i)ss` matching 'ß').
 */
import { TokenizerError } from './errors.ts';
import { caseVariants, escapeClassChar, posixBody, propertyBody, SHORTHAND_BODY } from './regex-unicode.ts';

/** A translated pattern: JavaScript source and the flags it needs (`u`, or `v` for nested sets). */
export interface TranslatedRegex {
  source: string;
  flags: 'u' | 'v';
}

/** Thrown inside the translator when the pattern needs class-set syntax: retried in `v` mode. */
class NeedsSetMode extends Error {}

const WORD = `[${SHORTHAND_BODY.w}]`;
const SYNTAX_CHARS = new Set('^$\\.*+?()[]{}|/');

/** Translates an Oniguruma pattern (as found in tokenizer.json) to JavaScript; see the table above. */
export function translateOniguruma(pattern: string): TranslatedRegex {
  let source: string;
  let flags: 'u' | 'v' = 'u';
  try {
    source = new Translator(pattern, false).run();
  } catch (e) {
    if (!(e instanceof NeedsSetMode)) throw e;
    source = new Translator(pattern, true).run();
    flags = 'v';
  }
  try {
    new RegExp(source, flags);
  } catch (e) {
    throw new TokenizerError(`cannot translate tokenizer regex ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
  return { source, flags };
}

/** Compiles an Oniguruma pattern to a global JavaScript RegExp (for `exec` loops over a string). */
export function compileOniguruma(pattern: string): RegExp {
  const { source, flags } = translateOniguruma(pattern);
  return new RegExp(source, 'g' + flags);
}

interface OpenGroup {
  /** Index in the output where the group starts (the quantifier target once it closes). */
  start: number;
  /** Text that closes it. */
  close: string;
  /** Case-insensitivity to restore when it closes. */
  restoreIgnoreCase: boolean;
  /** Opened by an isolated option `(?i)`: closes with the enclosing group (or the pattern). */
  implicit?: boolean;
}

class Translator {
  private i = 0;
  private out = '';
  private ignoreCase = false;
  private atomic = 0;
  private captures = 0;
  private readonly groups: OpenGroup[] = [];
  /** Output index where the last quantifiable atom begins, or -1. */
  private lastAtom = -1;
  /** Whether that atom already carries a quantifier (a second one must wrap it). */
  private quantified = false;
  /** Back-references exist, so capturing groups must stay capturing (named, to survive insertions). */
  private readonly keepCaptures: boolean;
  private readonly groupTotal: number;

  constructor(
    private readonly src: string,
    private readonly setMode: boolean,
  ) {
    this.keepCaptures = /\\[1-9]|\\k[<']/.test(src);
    // Capturing groups of the pattern (plain and named), for telling back-references from octal.
    this.groupTotal = (src.match(/(?<!\\)\((?!\?)|\(\?P?<[A-Za-z_]|\(\?'/g) ?? []).length;
  }

  run(): string {
    while (this.i < this.src.length) this.step();
    this.closeImplicitGroups();
    if (this.groups.length > 0) this.fail('unclosed group');
    return this.out;
  }

  /** Closes the groups that isolated options opened inside the current group. */
  private closeImplicitGroups(): void {
    while (this.groups.length > 0 && this.groups[this.groups.length - 1]!.implicit) {
      const g = this.groups.pop()!;
      this.out += g.close;
      this.ignoreCase = g.restoreIgnoreCase;
    }
  }

  private fail(what: string): never {
    throw new TokenizerError(`unsupported tokenizer regex ${JSON.stringify(this.src)}: ${what} at offset ${this.i}`);
  }

  private atom(text: string): void {
    this.lastAtom = this.out.length;
    this.quantified = false;
    this.out += text;
  }

  private step(): void {
    const c = this.src[this.i]!;
    switch (c) {
      case '(':
        return this.openGroup();
      case ')': {
        this.closeImplicitGroups();
        const g = this.groups.pop();
        if (g === undefined) this.fail("unmatched ')'");
        this.i++;
        this.out += g.close;
        this.ignoreCase = g.restoreIgnoreCase;
        this.lastAtom = g.start;
        this.quantified = false;
        return;
      }
      case '|':
        this.i++;
        this.out += '|';
        this.lastAtom = -1;
        return;
      case '*':
      case '+':
      case '?':
        this.i++;
        return this.quantifier(c, 'simple');
      case '{': {
        const m = /^\{(\d*)(,?)(\d*)\}/.exec(this.src.slice(this.i));
        if (m && (m[1] !== '' || (m[2] === ',' && m[3] !== ''))) {
          this.i += m[0].length;
          const fixed = m[2] === '';
          const q = fixed ? `{${m[1]}}` : `{${m[1] || '0'},${m[3]}}`;
          return this.quantifier(q, fixed ? 'fixed' : 'interval');
        }
        this.i++;
        return this.atom('\\{'); // Oniguruma reads a brace that is no interval literally
      }
      case '[':
        this.i++;
        return this.atom(this.charClass());
      case '.':
        this.i++;
        return this.atom('[^\\n]');
      case '^':
        this.i++;
        this.out += '(?<![^\\n])';
        this.lastAtom = -1;
        return;
      case '$':
        this.i++;
        this.out += '(?![^\\n])';
        this.lastAtom = -1;
        return;
      case '\\':
        return this.escape();
      default: {
        const cp = this.src.codePointAt(this.i)!;
        this.i += cp > 0xffff ? 2 : 1;
        return this.atom(this.literal(cp));
      }
    }
  }

  /**
   * Applies quantifier `q` to the last atom; handles the lazy `?` and possessive `+` suffixes. In
   * Oniguruma syntax only `* + ?` take a possessive `+`; after an interval `+` is another repeat, and
   * after a fixed interval `{n}` a `?` is another (optional) repeat, not laziness.
   */
  private quantifier(q: string, kind: 'simple' | 'interval' | 'fixed'): void {
    if (this.lastAtom < 0) this.fail('quantifier without a target');
    if (this.quantified) {
      // `X*{2}`, `X{n,m}+`, `X{n}?`: a repeat of a repeat; JavaScript needs an explicit group.
      this.out = `${this.out.slice(0, this.lastAtom)}(?:${this.out.slice(this.lastAtom)})`;
    }
    const next = this.src[this.i];
    if (next === '?' && kind !== 'fixed') {
      this.i++;
      q += '?';
    } else if (next === '+' && kind === 'simple') {
      this.i++;
      const name = `__a${++this.atomic}`;
      const target = this.out.slice(this.lastAtom);
      this.out = `${this.out.slice(0, this.lastAtom)}(?:(?=(?<${name}>${target}${q}))\\k<${name}>)`;
      this.quantified = true;
      return;
    }
    this.out += q;
    this.quantified = true;
  }

  private openGroup(): void {
    const start = this.out.length;
    const rest = this.src.slice(this.i);
    const push = (open: string, close: string, restore = this.ignoreCase) => {
      this.groups.push({ start, close, restoreIgnoreCase: restore });
      this.out += open;
      this.lastAtom = -1;
    };
    let m: RegExpExecArray | null;
    if (!rest.startsWith('(?')) {
      this.i += 1;
      if (!this.keepCaptures) return push('(?:', ')');
      return push(`(?<__g${++this.captures}>`, ')');
    }
    if ((m = /^\(\?(:|=|!|<=|<!)/.exec(rest))) {
      this.i += m[0].length;
      return push(m[0], ')');
    }
    if (rest.startsWith('(?>')) {
      this.i += 3;
      const name = `__a${++this.atomic}`;
      return push(`(?:(?=(?<${name}>`, `))\\k<${name}>)`);
    }
    if ((m = /^\(\?P?<([A-Za-z_]\w*)>/.exec(rest)) || (m = /^\(\?'([A-Za-z_]\w*)'/.exec(rest))) {
      this.i += m[0].length;
      this.captures++;
      return push(`(?<${m[1]}>`, ')');
    }
    if ((m = /^\(\?#[^)]*\)/.exec(rest))) {
      this.i += m[0].length; // comment
      return;
    }
    if ((m = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest))) {
      const on = m[1]!;
      const off = m[2] ?? '';
      if (/[^i]/.test(on + off)) this.fail(`inline flag other than 'i' in '${m[0]}'`);
      this.i += m[0].length;
      const restore = this.ignoreCase;
      if (on.includes('i')) this.ignoreCase = true;
      if (off.includes('i')) this.ignoreCase = false;
      if (m[3] === ':') return push('(?:', ')', restore);
      // An isolated option groups the rest of the enclosing group: /a(?i)b|c/ is /a(?i:b|c)/ in
      // Oniguruma (not Perl's /a(?i:b)|(?i:c)/).
      this.groups.push({ start: this.out.length, close: ')', restoreIgnoreCase: restore, implicit: true });
      this.out += '(?:';
      this.lastAtom = -1;
      return;
    }
    this.fail('unsupported group syntax');
  }

  /** A literal code point outside a class, expanded to its case variants under `(?i)`. */
  private literal(cp: number): string {
    if (this.ignoreCase) {
      const v = caseVariants(cp);
      if (v.length > 1) return `[${v.map(escapeClassChar).join('')}]`;
    }
    const ch = String.fromCodePoint(cp);
    return SYNTAX_CHARS.has(ch) ? `\\${ch}` : ch;
  }

  /** Parses an escape outside a class (the backslash is at `this.i`). */
  private escape(): void {
    const e = this.src[this.i + 1];
    if (e === undefined) this.fail('trailing backslash');
    this.i += 2;
    const lower = e.toLowerCase();
    if (lower in SHORTHAND_BODY) {
      return this.atom(`[${e === lower ? '' : '^'}${SHORTHAND_BODY[lower]}]`);
    }
    switch (e) {
      case 'p':
      case 'P': {
        const { body, negated } = this.property(e === 'P');
        return this.atom(!negated && /^\\p\{[^}]+\}$/.test(body) ? body : `[${negated ? '^' : ''}${body}]`);
      }
      case 'b':
        return this.assertion(`(?:(?<=${WORD})(?!${WORD})|(?<!${WORD})(?=${WORD}))`);
      case 'B':
        return this.assertion(`(?:(?<=${WORD})(?=${WORD})|(?<!${WORD})(?!${WORD}))`);
      case 'A':
        return this.assertion('(?<![\\s\\S])');
      case 'z':
        return this.assertion('(?![\\s\\S])');
      case 'Z':
        return this.assertion('(?=\\n?(?![\\s\\S]))');
      case 'R':
        return this.atom('(?:\\r\\n|[\\n\\x0b\\f\\r\\x85\\u2028\\u2029])');
      case 'N':
        return this.atom('[^\\n]');
      case 'O':
        return this.atom('[\\s\\S]');
      case 'k': {
        const m = /^[<']([^>']+)[>']/.exec(this.src.slice(this.i));
        if (!m) this.fail('malformed \\k back-reference');
        this.i += m[0].length;
        const ref = /^\d+$/.test(m[1]!) ? `__g${m[1]}` : m[1]!;
        return this.atom(`\\k<${ref}>`);
      }
    }
    if (e >= '1' && e <= '9') {
      // \N is a back-reference when group N exists, else (ESC_OCTAL3) an octal escape like \101.
      const digits = e + /^\d{0,2}/.exec(this.src.slice(this.i))![0];
      const n = parseInt(digits, 10);
      if (n <= this.groupTotal) {
        this.i += digits.length - 1;
        return this.atom(`\\k<__g${n}>`);
      }
      const octal = /^[0-7]{2,3}/.exec(digits);
      if (!octal) this.fail(`back-reference \\${digits} to a missing group`);
      this.i += octal[0].length - 1;
      return this.atom(this.literal(parseInt(octal[0], 8)));
    }
    this.i -= 1;
    const cp = this.escapedChar();
    this.atom(this.literal(cp));
  }

  private assertion(text: string): void {
    this.out += text;
    this.lastAtom = -1;
  }

  /**
   * Reads an escape that stands for one character; `this.i` is just past the backslash. Handles
   * control letters, `\xHH`, `\x{H…}`, `\uHHHH`, octal `\0oo`, and identity escapes of punctuation.
   */
  private escapedChar(): number {
    const e = this.src[this.i]!;
    const rest = this.src.slice(this.i + 1);
    this.i++;
    const simple: Record<string, number> = { t: 9, n: 10, v: 11, f: 12, r: 13, a: 7, e: 27 };
    if (e in simple) return simple[e]!;
    let m: RegExpExecArray | null;
    if (e === 'x' && (m = /^\{([0-9a-fA-F]{1,8})\}/.exec(rest))) {
      this.i += m[0].length;
      return this.codePoint(parseInt(m[1]!, 16));
    }
    if (e === 'x' && (m = /^[0-9a-fA-F]{1,2}/.exec(rest))) {
      this.i += m[0].length;
      return parseInt(m[0], 16);
    }
    if (e === 'u' && (m = /^[0-9a-fA-F]{4}/.exec(rest))) {
      this.i += 4;
      return parseInt(m[0], 16);
    }
    if (e === '0') {
      m = /^[0-7]{0,2}/.exec(rest)!;
      this.i += m[0].length;
      return parseInt(m[0] || '0', 8);
    }
    if (/[\p{L}\p{N}]/u.test(e)) this.fail(`unsupported escape \\${e}`);
    const cp = this.src.codePointAt(this.i - 1)!;
    if (cp > 0xffff) this.i++;
    return cp;
  }

  private codePoint(cp: number): number {
    if (cp > 0x10ffff) this.fail('code point out of range');
    return cp;
  }

  /** Parses the name after `\p` / `\P` (`{Name}`, `{^Name}` or one letter). */
  private property(negatedByLetter: boolean): { body: string; negated: boolean } {
    let name: string;
    const m = /^\{(\^?)([^}]+)\}/.exec(this.src.slice(this.i));
    let negated = negatedByLetter;
    if (m) {
      this.i += m[0].length;
      if (m[1] === '^') negated = !negated;
      name = m[2]!;
    } else {
      name = this.src[this.i] ?? '';
      if (!/[A-Za-z]/.test(name)) this.fail('malformed \\p property');
      this.i++;
    }
    return { body: propertyBody(name), negated };
  }

  /**
   * Parses a bracket class after its `[` and returns the JavaScript class text. Items become
   * class-body pieces; a negated set inside a class (`[\S\d]`, `[^a[^b]]`, `[a&&b]`) needs `v`-mode
   * nested classes, requested by throwing NeedsSetMode in `u` mode.
   */
  private charClass(): string {
    const negated = this.src[this.i] === '^';
    if (negated) this.i++;
    const operands: string[] = [];
    let items = '';
    let first = true;
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined) this.fail("unclosed '['");
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      if (c === '&' && this.src[this.i + 1] === '&') {
        this.i += 2;
        operands.push(items);
        items = '';
        continue;
      }
      if (c === '[') {
        const posix = /^\[:(\^?)([A-Za-z]+):\]/.exec(this.src.slice(this.i));
        if (posix) {
          this.i += posix[0].length;
          items += this.setItem(posixBody(posix[2]!), posix[1] === '^');
          continue;
        }
        this.i++;
        if (!this.setMode) throw new NeedsSetMode();
        items += this.charClass();
        continue;
      }
      if (c === '\\') {
        const e = this.src[this.i + 1];
        const lower = e?.toLowerCase();
        if (lower !== undefined && lower in SHORTHAND_BODY) {
          this.i += 2;
          items += this.setItem(SHORTHAND_BODY[lower]!, e !== lower);
          continue;
        }
        if (e === 'p' || e === 'P') {
          this.i += 2;
          const { body, negated: neg } = this.property(e === 'P');
          items += this.setItem(body, neg);
          continue;
        }
      }
      const lo = this.classChar();
      if (this.src[this.i] === '-' && this.src[this.i + 1] !== ']' && this.src[this.i + 1] !== undefined) {
        this.i++;
        const hi = this.classChar();
        if (hi < lo) this.fail('reversed range in class');
        items += this.range(lo, hi);
      } else {
        items += this.range(lo, lo);
      }
    }
    operands.push(items);
    const body = operands.length === 1 ? items : this.intersection(operands);
    return `[${negated ? '^' : ''}${body}]`;
  }

  private intersection(operands: string[]): string {
    if (!this.setMode) throw new NeedsSetMode();
    return operands.map((o) => `[${o}]`).join('&&');
  }

  /** A class item for a (possibly negated) set body. */
  private setItem(body: string, negated: boolean): string {
    if (!negated) return body;
    if (/^\\p\{[^}]+\}$/.test(body)) return body.replace('\\p', '\\P');
    if (!this.setMode) throw new NeedsSetMode();
    return `[^${body}]`;
  }

  /** Reads one character inside a class: a literal, or an escape standing for one character. */
  private classChar(): number {
    const c = this.src[this.i]!;
    if (c === '\\') {
      if (this.src[this.i + 1] === 'b') {
        this.i += 2;
        return 8; // backspace inside a class
      }
      this.i++;
      return this.escapedChar();
    }
    const cp = this.src.codePointAt(this.i)!;
    this.i += cp > 0xffff ? 2 : 1;
    return cp;
  }

  /** Class text for lo..hi, widened to case variants under `(?i)`. */
  private range(lo: number, hi: number): string {
    if (!this.ignoreCase) {
      return lo === hi ? escapeClassChar(lo) : `${escapeClassChar(lo)}-${escapeClassChar(hi)}`;
    }
    if (hi - lo > 4096) this.fail('case-insensitive class range too large to expand');
    const set = new Set<number>();
    for (let cp = lo; cp <= hi; cp++) for (const v of caseVariants(cp)) set.add(v);
    return [...set].map(escapeClassChar).join('');
  }
}
