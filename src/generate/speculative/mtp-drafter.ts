/**
 * Drafting with the MTP module (DeepSeek-V3 §2.2, used at inference as in §5.4.3 and vLLM). Its
 * position i reads the main model's final state of token i and the embedding of token i + 1, and
 * guesses token i + 2. So a sequence's MTP cache follows its main cache one token behind: the main
 * states it still needs (`pending`, from the forwards that fed those positions) wait here until the
 * token after them is known. A draft step then
 * 1. catches up: runs the module over the pending positions (the last one ends with the newest
 *    token, and its logits are the guess for the token after it: draft 1);
 * 2. chains: feeds the module its own normalised state and the draft it just made, one position
 *    further, for drafts 2..k (past the module's training depth, as vLLM chains it).
 * The chained positions' cache rows rest on guessed states; `rollback` drops them once the main
 * model has verified the drafts, and its real states become the new pending rows.
 */
import { Tensor, floatData } from '../../tensor/index.ts';
import type { SequenceCache } from '../../model/causal-lm.ts';
import type { Sequence } from '../sequence.ts';
import type { MtpModel } from './mtp-model.ts';

/** What the draft of one position is: the token and the distribution it was drawn from. */
export interface DraftToken {
  token: number;
  /**
   * The draft's distribution after the sequence's sampling rules; absent when the sequence decodes
   * greedily (a point mass on `token`: verification only compares argmaxes).
   */
  q?: Float64Array;
}

/** Chooses a draft token from MTP logits at draft position `j` (0-based) of `s`, given the drafts before it. */
export type DraftChooser = (s: Sequence, logits: Float32Array, before: readonly number[]) => DraftToken;

/** The token at position i of a sequence (prompt, then output). */
function tokenAt(s: Sequence, i: number): number {
  return i < s.prompt.length ? s.prompt[i]! : s.generated[i - s.prompt.length]!;
}

export class MtpDrafter {
  /** Per sequence: main final states [D] of the positions past its MTP cache, in order. */
  private readonly pending = new Map<Sequence, Float32Array[]>();

  constructor(readonly model: MtpModel) {}

  /** A sequence's MTP caches (they follow its main caches). */
  caches(s: Sequence): SequenceCache {
    return s.cache!.slice(this.model.layers.length);
  }

  /** A sequence's main caches. */
  mainCaches(s: Sequence): SequenceCache {
    return s.cache!.slice(0, this.model.layers.length);
  }

  /** Main final states [T, D] (row-major) of the T positions just fed for `s`. */
  absorb(s: Sequence, states: Float32Array, T: number): void {
    const D = states.length / T;
    const rows = this.pending.get(s) ?? [];
    for (let t = 0; t < T; t++) rows.push(states.slice(t * D, (t + 1) * D));
    this.pending.set(s, rows);
  }

  /** Forgets a sequence that left. */
  forget(s: Sequence): void {
    this.pending.delete(s);
  }

  /**
   * Runs the module over each sequence's pending positions whose next token is known (all of them
   * when `all`, else all but the last: during prefill, the last prompt position waits for the
   * first output token), in ONE step: rows with fewer positions are padded at the end, and the
   * padding's cache rows dropped after (causal attention: real positions never see them). Returns,
   * for sequences that ran everything, the last position's normalised state [D] and logits [V].
   */
  catchUp(seqs: readonly Sequence[], all: boolean): Map<Sequence, { normed: Float32Array; logits: Float32Array }> {
    const group: Sequence[] = [];
    const counts: number[] = [];
    for (const s of seqs) {
      const rows = this.pending.get(s)?.length ?? 0;
      const n = all ? rows : rows - 1;
      if (n <= 0) continue;
      group.push(s);
      counts.push(n);
    }
    const out = new Map<Sequence, { normed: Float32Array; logits: Float32Array }>();
    if (group.length === 0) return out;
    const B = group.length;
    const n = Math.max(...counts);
    const D = this.pending.get(group[0]!)![0]!.length;
    const prev = new Float32Array(B * n * D);
    const next = new Int32Array(B * n);
    const starts = group.map((s, b) => {
      const rows = this.pending.get(s)!;
      const start = this.caches(s)[0]!.length; // position of the first pending row
      for (let t = 0; t < counts[b]!; t++) {
        prev.set(rows[t]!, (b * n + t) * D);
        next[b * n + t] = tokenAt(s, start + t + 1);
      }
      rows.splice(0, counts[b]!);
      return start;
    });
    const r = this.model.mtpStep(
      1,
      Tensor.from(prev, [B, n, D], 'f32'),
      Tensor.from(next, [B, n], 'i32'),
      group.map((s) => this.caches(s)),
      counts.map((c) => c - 1),
    );
    const normed = floatData(r.normed) as Float32Array;
    const logits = floatData(r.logits) as Float32Array;
    const V = logits.length / B;
    group.forEach((s, b) => {
      const m = counts[b]!;
      if (m < n) for (const c of this.caches(s)) c.truncate(starts[b]! + m);
      if (this.pending.get(s)!.length > 0) return;
      out.set(s, {
        normed: normed.slice((b * n + m - 1) * D, (b * n + m) * D),
        logits: logits.subarray(b * V, (b + 1) * V),
      });
    });
    return out;
  }

  /**
   * Drafts `counts[i]` tokens for `seqs[i]` (0: none, but its MTP cache still catches up). Each
   * sequence's main cache holds every token but its last, and all its pending states are known.
   */
  draft(seqs: readonly Sequence[], counts: readonly number[], choose: DraftChooser): DraftToken[][] {
    const heads = this.catchUp(seqs, true);
    const drafts: DraftToken[][] = seqs.map(() => []);
    let live = seqs.map((s, i) => ({ s, i, state: heads.get(s)! })).filter((x) => counts[x.i]! > 0);
    for (const x of live) drafts[x.i]!.push(choose(x.s, x.state.logits, []));
    for (let j = 1; live.length > 0; j++) {
      live = live.filter((x) => counts[x.i]! > j);
      if (live.length === 0) break;
      const B = live.length;
      const D = live[0]!.state.normed.length;
      const prev = new Float32Array(B * D);
      live.forEach((x, b) => prev.set(x.state.normed, b * D));
      const r = this.model.mtpStep(
        1,
        Tensor.from(prev, [B, 1, D], 'f32'),
        Tensor.from(
          live.map((x) => drafts[x.i]![j - 1]!.token),
          [B, 1],
          'i32',
        ),
        live.map((x) => this.caches(x.s)),
      );
      const normed = floatData(r.normed) as Float32Array;
      const logits = floatData(r.logits) as Float32Array;
      const V = logits.length / B;
      live.forEach((x, b) => {
        x.state = { normed: normed.slice(b * D, (b + 1) * D), logits: logits.subarray(b * V, (b + 1) * V) };
        drafts[x.i]!.push(
          choose(
            x.s,
            x.state.logits,
            drafts[x.i]!.map((d) => d.token),
          ),
        );
      });
    }
    return drafts;
  }

  /**
   * After verification: the MTP cache keeps its first `verified` positions (those resting on real
   * main states), and `states` [T, D] — the main states of the positions the verification fed and
   * kept — become pending.
   */
  rollback(s: Sequence, verified: number, states: Float32Array, T: number): void {
    for (const c of this.caches(s)) c.truncate(verified);
    this.pending.set(s, []);
    this.absorb(s, states, T);
  }
}
