/**
 * A byte-level recognizer of JSON text prefixes, for constrained decoding (`response_format:
 * json_object`, tool-call arguments). It answers, byte by byte, "can this still become valid JSON?",
 * and how many bytes at least are needed to finish (`closing()`), so the decoder can stop accepting
 * tokens that would leave the value unfinishable within the remaining token budget. Strings are
 * checked as UTF-8 (byte-level BPE tokens may carry partial characters), so a finished value always
 * decodes and `JSON.parse`s.
 *
 * State is a handful of numbers and an immutable string for the container stack, so `clone()` is
 * cheap: the decoder clones once per candidate token.
 */

const VALUE = 0; // expecting a value
const VALUE_OR_CLOSE = 1; // right after '[': a value or ']'
const KEY_OR_CLOSE = 2; // right after '{': a key or '}'
const KEY = 3; // after ',' in an object
const COLON = 4;
const AFTER = 5; // after a value inside a container: ',' or its closer
const STRING = 6;
const NUMBER = 7;
const LITERAL = 8; // true / false / null
const DONE = 9;

// Number sub-states: what the last byte was.
const N_MINUS = 0;
const N_ZERO = 1;
const N_INT = 2;
const N_DOT = 3;
const N_FRAC = 4;
const N_E = 5;
const N_ESIGN = 6;
const N_EXP = 7;

/**
 * Most whitespace bytes in a row outside strings: a newline and four spaces of indentation per open
 * container (two at the top). Unlimited whitespace is valid JSON but lets a weak model pad the output
 * with blanks until the budget runs out.
 */
const maxWhitespaceRun = (depth: number) => 2 + 4 * depth;

const isWs = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
const isHex = (b: number) => isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);

export class JsonPrefix {
  private mode = VALUE;
  /** Open containers, innermost last: '{' or '['. */
  private stack = '';
  private key = false;
  private escape = false;
  private hex = 0;
  private utf8 = 0;
  private lo = 0x80;
  private hi = 0xbf;
  private num = N_INT;
  private literal = '';
  /** Whitespace bytes in a row just fed (outside strings). */
  private ws = 0;

  /** @param topObject the whole text must be one object (OpenAI's json_object mode) */
  constructor(readonly topObject = true) {}

  clone(): JsonPrefix {
    const c = new JsonPrefix(this.topObject);
    c.mode = this.mode;
    c.stack = this.stack;
    c.key = this.key;
    c.escape = this.escape;
    c.hex = this.hex;
    c.utf8 = this.utf8;
    c.lo = this.lo;
    c.hi = this.hi;
    c.num = this.num;
    c.literal = this.literal;
    c.ws = this.ws;
    return c;
  }

  /** Whether the text so far is one complete JSON value. */
  get complete(): boolean {
    return this.mode === DONE;
  }

  /** Feeds bytes; false (and the state is then undefined) when they cannot continue valid JSON. */
  feedAll(bytes: Uint8Array): boolean {
    for (let i = 0; i < bytes.length; i++) if (!this.feed(bytes[i]!)) return false;
    return true;
  }

  /** The fewest bytes that complete the value from here (0 once complete). */
  closing(): number {
    let n: number;
    switch (this.mode) {
      case VALUE:
        n = this.stack.length === 0 && this.topObject ? 2 : 1; // '{}' or '0'
        break;
      case KEY:
        n = 4; // '"":0'
        break;
      case COLON:
        n = 2; // ':0'
        break;
      case STRING:
        n = this.utf8 + this.hex + (this.escape ? 1 : 0) + 1 + (this.key ? 2 : 0);
        break;
      case NUMBER:
        n = this.num === N_MINUS || this.num === N_DOT || this.num === N_E || this.num === N_ESIGN ? 1 : 0;
        break;
      case LITERAL:
        n = this.literal.length;
        break;
      default:
        n = 0;
    }
    return n + this.stack.length;
  }

  feed(b: number): boolean {
    const blank = this.mode !== STRING && isWs(b);
    if (blank && this.ws >= maxWhitespaceRun(this.stack.length)) return false;
    const ok = this.step(b);
    this.ws = blank ? this.ws + 1 : 0;
    return ok;
  }

  private step(b: number): boolean {
    switch (this.mode) {
      case VALUE:
      case VALUE_OR_CLOSE:
        if (isWs(b)) return true;
        if (this.mode === VALUE_OR_CLOSE && b === 0x5d) return this.close(0x5b);
        return this.startValue(b);
      case KEY_OR_CLOSE:
        if (isWs(b)) return true;
        if (b === 0x7d) return this.close(0x7b);
        return this.startKey(b);
      case KEY:
        if (isWs(b)) return true;
        return this.startKey(b);
      case COLON:
        if (isWs(b)) return true;
        if (b !== 0x3a) return false;
        this.mode = VALUE;
        return true;
      case AFTER:
        return this.after(b);
      case STRING:
        return this.stringByte(b);
      case NUMBER:
        return this.numberByte(b);
      case LITERAL:
        if (b !== this.literal.charCodeAt(0)) return false;
        this.literal = this.literal.slice(1);
        if (this.literal.length === 0) this.valueDone();
        return true;
      default:
        return false; // nothing may follow a complete value
    }
  }

  private startValue(b: number): boolean {
    if (this.stack.length === 0 && this.topObject && b !== 0x7b) return false;
    switch (b) {
      case 0x7b:
        this.stack += '{';
        this.mode = KEY_OR_CLOSE;
        return true;
      case 0x5b:
        this.stack += '[';
        this.mode = VALUE_OR_CLOSE;
        return true;
      case 0x22:
        this.mode = STRING;
        this.key = false;
        return true;
      case 0x2d:
        this.mode = NUMBER;
        this.num = N_MINUS;
        return true;
      case 0x74:
        return this.startLiteral('rue');
      case 0x66:
        return this.startLiteral('alse');
      case 0x6e:
        return this.startLiteral('ull');
      default:
        if (!isDigit(b)) return false;
        this.mode = NUMBER;
        this.num = b === 0x30 ? N_ZERO : N_INT;
        return true;
    }
  }

  private startLiteral(rest: string): boolean {
    this.mode = LITERAL;
    this.literal = rest;
    return true;
  }

  private startKey(b: number): boolean {
    if (b !== 0x22) return false;
    this.mode = STRING;
    this.key = true;
    return true;
  }

  private after(b: number): boolean {
    if (isWs(b)) return true;
    const top = this.stack.charCodeAt(this.stack.length - 1);
    if (b === 0x2c) {
      this.mode = top === 0x7b ? KEY : VALUE;
      return true;
    }
    if ((b === 0x7d && top === 0x7b) || (b === 0x5d && top === 0x5b)) return this.close(top);
    return false;
  }

  private close(open: number): boolean {
    if (this.stack.charCodeAt(this.stack.length - 1) !== open) return false;
    this.stack = this.stack.slice(0, -1);
    this.valueDone();
    return true;
  }

  private valueDone(): void {
    this.mode = this.stack.length === 0 ? DONE : AFTER;
  }

  private stringByte(b: number): boolean {
    if (this.utf8 > 0) {
      if (b < this.lo || b > this.hi) return false;
      this.utf8--;
      this.lo = 0x80;
      this.hi = 0xbf;
      return true;
    }
    if (this.hex > 0) {
      if (!isHex(b)) return false;
      this.hex--;
      return true;
    }
    if (this.escape) {
      this.escape = false;
      if (b === 0x75) {
        this.hex = 4;
        return true;
      }
      // " \ / b f n r t
      return b === 0x22 || b === 0x5c || b === 0x2f || b === 0x62 || b === 0x66 || b === 0x6e || b === 0x72 || b === 0x74;
    }
    if (b === 0x22) {
      if (this.key) this.mode = COLON;
      else this.valueDone();
      return true;
    }
    if (b === 0x5c) {
      this.escape = true;
      return true;
    }
    if (b < 0x20) return false; // control characters must be escaped
    if (b < 0x80) return true;
    // UTF-8 lead bytes, with the ranges that exclude overlongs and surrogates (RFC 3629).
    if (b >= 0xc2 && b <= 0xdf) return this.lead(1, 0x80, 0xbf);
    if (b === 0xe0) return this.lead(2, 0xa0, 0xbf);
    if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) return this.lead(2, 0x80, 0xbf);
    if (b === 0xed) return this.lead(2, 0x80, 0x9f);
    if (b === 0xf0) return this.lead(3, 0x90, 0xbf);
    if (b >= 0xf1 && b <= 0xf3) return this.lead(3, 0x80, 0xbf);
    if (b === 0xf4) return this.lead(3, 0x80, 0x8f);
    return false;
  }

  private lead(continuation: number, lo: number, hi: number): boolean {
    this.utf8 = continuation;
    this.lo = lo;
    this.hi = hi;
    return true;
  }

  private numberByte(b: number): boolean {
    const digit = isDigit(b);
    switch (this.num) {
      case N_MINUS:
        if (!digit) return false;
        this.num = b === 0x30 ? N_ZERO : N_INT;
        return true;
      case N_DOT:
        if (!digit) return false;
        this.num = N_FRAC;
        return true;
      case N_E:
        if (b === 0x2b || b === 0x2d) {
          this.num = N_ESIGN;
          return true;
        }
        if (!digit) return false;
        this.num = N_EXP;
        return true;
      case N_ESIGN:
        if (!digit) return false;
        this.num = N_EXP;
        return true;
    }
    // A number that could end here: more digits, '.', 'e', or the byte after the number.
    if (digit && this.num !== N_ZERO) return true;
    if (b === 0x2e && (this.num === N_ZERO || this.num === N_INT)) {
      this.num = N_DOT;
      return true;
    }
    if ((b === 0x65 || b === 0x45) && this.num !== N_EXP) {
      this.num = N_E;
      return true;
    }
    if (this.stack.length === 0) return false; // a top-level number has no terminator in our use
    this.valueDone();
    return this.step(b);
  }
}
