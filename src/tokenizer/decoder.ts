/**
 * The byte-level decoder: token strings → bytes → text. Follows HF's ByteLevel decoder: a token
 * whose characters are all in the byte alphabet stands for those bytes; any other token (an added
 * token such as `<｜User｜>`) stands for its own UTF-8. Invalid UTF-8 (a sequence cut in the middle
 * of a character) becomes U+FFFD, as `String::from_utf8_lossy` does.
 */
import { appendTokenBytes } from './bytes.ts';
import { check, TokenizerError } from './errors.ts';
import type { ComponentJson } from './schema.ts';

/** Validates tokenizer.json's decoder: ByteLevel (or absent, or a Sequence of just ByteLevel). */
export function checkDecoder(node: ComponentJson | null | undefined): void {
  if (node === null || node === undefined) return; // byte-level vocabularies decode byte-level regardless
  check(typeof node.type === 'string', "decoder: missing 'type'");
  if (node.type === 'ByteLevel') return;
  if (node.type === 'Sequence' && Array.isArray(node.decoders)) {
    for (const d of node.decoders as ComponentJson[]) checkDecoder(d);
    return;
  }
  throw new TokenizerError(`unsupported decoder type '${node.type}' (byte-level BPE only)`);
}

/** Decodes token strings to bytes, caching each token's bytes by id. */
export class ByteLevelDecoder {
  private readonly cache: (Uint8Array | undefined)[] = [];
  /** Reusable output bytes (grown on demand). */
  private out = Buffer.allocUnsafe(1 << 16);
  private length = 0;

  /** Bytes of token `id` whose string is `token`. */
  bytesOf(id: number, token: string): Uint8Array {
    let b = this.cache[id];
    if (b === undefined) {
      const out: number[] = [];
      appendTokenBytes(token, out);
      b = Uint8Array.from(out);
      this.cache[id] = b;
    }
    return b;
  }

  /** Starts a new output. */
  begin(): void {
    this.length = 0;
  }

  /** Appends the bytes of token `id`. */
  append(id: number, token: string): void {
    const b = this.bytesOf(id, token);
    const n = b.length;
    if (this.length + n > this.out.length) {
      const next = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.length + n));
      this.out.copy(next, 0, 0, this.length);
      this.out = next;
    }
    const out = this.out;
    let k = this.length;
    for (let i = 0; i < n; i++) out[k++] = b[i]!;
    this.length = k;
  }

  /** The output so far as text (UTF-8, lossy). */
  finish(): string {
    return this.out.toString('utf8', 0, this.length);
  }
}
