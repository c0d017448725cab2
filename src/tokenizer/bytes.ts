/**
 * The byte-level alphabet of GPT-2 style BPE: every byte 0..255 maps to one printable Unicode
 * character, so that any UTF-8 byte string becomes a string of "visible" characters that a vocabulary
 * can store as JSON keys (a space becomes 'Ġ', a newline 'Ċ'). This is `bytes_to_unicode` of GPT-2
 * and of HF tokenizers' ByteLevel, which must agree exactly for ids to match released vocabularies.
 */

/** `BYTE_TO_CHAR[b]` is the alphabet character for byte `b`. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

/** Reverse of BYTE_TO_CHAR, indexed by char code (all alphabet chars are below U+0144). */
const CHAR_TO_BYTE = new Int16Array(0x144).fill(-1);
for (let b = 0; b < 256; b++) CHAR_TO_BYTE[BYTE_TO_CHAR[b]!.charCodeAt(0)] = b;

function buildByteToChar(): string[] {
  // Printable Latin-1 bytes keep their own code point; the other 68 bytes are assigned 256, 257, ...
  // in byte order.
  const out = new Array<string>(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    out[b] = String.fromCharCode(printable ? b : next++);
  }
  return out;
}

/** The byte an alphabet character stands for, or -1 when `code` is not in the alphabet. */
export function charCodeToByte(code: number): number {
  return code < 0x144 ? CHAR_TO_BYTE[code]! : -1;
}

/** Maps UTF-8 bytes to their alphabet string (what a byte-level vocabulary stores). */
export function bytesToAlphabet(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += BYTE_TO_CHAR[bytes[i]!]!;
  return s;
}

/** Maps text to its byte-level alphabet string (UTF-8 first). */
export function textToAlphabet(text: string): string {
  return bytesToAlphabet(Buffer.from(text, 'utf8'));
}

/**
 * Appends the bytes of a token string to `out`, the way HF's ByteLevel decoder does: if every
 * character is in the alphabet, the bytes it stands for; otherwise (an added token such as
 * '<｜User｜>') the token's own UTF-8 bytes.
 */
export function appendTokenBytes(token: string, out: number[]): void {
  const start = out.length;
  for (let i = 0; i < token.length; i++) {
    const b = charCodeToByte(token.charCodeAt(i));
    if (b < 0) {
      out.length = start;
      for (const byte of Buffer.from(token, 'utf8')) out.push(byte);
      return;
    }
    out.push(b);
  }
}

/**
 * Encodes `text` as UTF-8 into `buf` (which must hold 3 bytes per UTF-16 unit), returning the length.
 * A hand loop beats TextEncoder on the short words BPE sees; lone surrogates become U+FFFD like
 * TextEncoder / Rust's lossy conversion.
 */
export function utf8Into(text: string, buf: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      buf[n++] = c;
    } else if (c < 0x800) {
      buf[n++] = 0xc0 | (c >> 6);
      buf[n++] = 0x80 | (c & 63);
    } else if (c >= 0xd800 && c < 0xe000) {
      const d = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        buf[n++] = 0xf0 | (c >> 18);
        buf[n++] = 0x80 | ((c >> 12) & 63);
        buf[n++] = 0x80 | ((c >> 6) & 63);
        buf[n++] = 0x80 | (c & 63);
      } else {
        buf[n++] = 0xef;
        buf[n++] = 0xbf;
        buf[n++] = 0xbd;
      }
    } else {
      buf[n++] = 0xe0 | (c >> 12);
      buf[n++] = 0x80 | ((c >> 6) & 63);
      buf[n++] = 0x80 | (c & 63);
    }
  }
  return n;
}
