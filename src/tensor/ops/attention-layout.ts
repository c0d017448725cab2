/**
 * Who may attend to whom, beyond plain causality: a per-row list of blocks, each a range of queries
 * and the range of keys they see. Two users need it and neither can be said with one causal mask:
 *
 * - packing (SFT): several examples share a row, and each must see only itself — blocks
 *   {q: [s, e), k: [s, e), causal} per example, so one example never attends to another;
 * - right padding with an attention mask (GRPO, as transformers): real tokens attend causally,
 *   and a padding query sees the real tokens only — {q: [0, n), k: [0, n), causal},
 *   {q: [n, T), k: [0, n), not causal}.
 *
 * The layout is ambient (like `withProjection`), so the model code calls `attention` unchanged; it
 * applies to every attention over exactly `length` queries and keys, and a call of any other length
 * under a layout is an error (it would silently ignore it otherwise). RoPE needs no change: the
 * scores depend only on position differences inside a block.
 */
import type { Tensor } from '../tensor.ts';
import { concat, slice } from './view.ts';

export interface AttentionBlock {
  /** Queries [qStart, qEnd) of the row... */
  qStart: number;
  qEnd: number;
  /** ...see keys [kStart, kEnd), causally aligned at the end (query i ↔ key i + (kLen − qLen)) or all of them. */
  kStart: number;
  kEnd: number;
  causal: boolean;
}

export interface AttentionLayout {
  /** Tokens per row (Tq = Tk of the attention calls it governs). */
  length: number;
  /** Blocks of each batch row, covering every query exactly once, in query order. */
  rows: AttentionBlock[][];
}

let active: AttentionLayout | null = null;

/** The layout in force (null: plain causal attention). */
export function activeAttentionLayout(): AttentionLayout | null {
  return active;
}

/** Runs `body` with `layout` governing attention, restoring the previous one after. */
export function withAttentionLayout<R>(layout: AttentionLayout | null, body: () => R): R {
  if (layout) checkLayout(layout);
  const prev = active;
  active = layout;
  try {
    return body();
  } finally {
    active = prev;
  }
}

function checkLayout(l: AttentionLayout): void {
  for (const [b, blocks] of l.rows.entries()) {
    let next = 0;
    for (const k of blocks) {
      const ok =
        k.qStart === next &&
        k.qEnd > k.qStart &&
        k.kStart >= 0 &&
        k.kEnd > k.kStart &&
        k.kEnd <= l.length &&
        (!k.causal || k.kEnd - k.kStart >= k.qEnd - k.qStart);
      if (!ok) throw new Error(`attention layout row ${b}: bad block ${JSON.stringify(k)}`);
      next = k.qEnd;
    }
    if (next !== l.length) throw new Error(`attention layout row ${b} covers ${next} of ${l.length} queries`);
  }
}

/** Causal blocks of consecutive segments (packed examples) of the given lengths. */
export function segmentBlocks(lengths: readonly number[]): AttentionBlock[] {
  let s = 0;
  return lengths
    .filter((n) => n > 0)
    .map((n) => {
      const b = { qStart: s, qEnd: s + n, kStart: s, kEnd: s + n, causal: true };
      s += n;
      return b;
    });
}

/** A row of `real` tokens then padding up to `length`, masked as transformers' attention_mask does. */
export function paddedBlocks(real: number, length: number): AttentionBlock[] {
  const blocks: AttentionBlock[] = [{ qStart: 0, qEnd: real, kStart: 0, kEnd: real, causal: true }];
  if (real < length) blocks.push({ qStart: real, qEnd: length, kStart: 0, kEnd: real, causal: false });
  return blocks;
}

type Attend<O> = (q: Tensor, k: Tensor, v: Tensor, opts: O) => Tensor;

/**
 * Attention under `layout`: each row's blocks attend separately through `attend` (the plain kernel
 * op) and are joined back; a layout of whole causal rows is one ordinary call.
 */
export function attendByBlocks<O extends { causal?: boolean }>(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: O,
  layout: AttentionLayout,
  attend: Attend<O>,
): Tensor {
  const [B, , Tq] = q.shape as [number, number, number];
  const Tk = k.shape[2]!;
  if (Tq !== layout.length || Tk !== layout.length || B !== layout.rows.length) {
    throw new Error(`attention layout for ${layout.rows.length} rows of ${layout.length} tokens used on q [${q.shape}], k [${k.shape}]`);
  }
  const whole = (blocks: AttentionBlock[]) => blocks.length === 1 && blocks[0]!.causal && blocks[0]!.kStart === 0;
  if (layout.rows.every(whole)) return attend(q, k, v, opts);
  const rows = layout.rows.map((blocks, b) => {
    const [qb, kb, vb] = [q, k, v].map((t) => slice(t, 0, b, b + 1)) as [Tensor, Tensor, Tensor];
    const parts = blocks.map((blk) =>
      attend(slice(qb, 2, blk.qStart, blk.qEnd), slice(kb, 2, blk.kStart, blk.kEnd), slice(vb, 2, blk.kStart, blk.kEnd), {
        ...opts,
        causal: blk.causal,
      }),
    );
    return parts.length === 1 ? parts[0]! : concat(parts, 2);
  });
  return rows.length === 1 ? rows[0]! : concat(rows, 0);
}
