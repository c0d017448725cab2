/**
 * Self-speculative decoding inside the batch decoder's decode step (DeepSeek-V3 §5.4.3; Leviathan et
 * al. 2023). For each decoding sequence, one step:
 * 1. drafts k tokens with the MTP module (`mtp-drafter.ts`);
 * 2. verifies them in ONE forward of the main model over its cache: the last token and the k drafts,
 *    k + 1 positions, whose logits are the target distributions of the k drafts and of one more;
 * 3. keeps drafts while the acceptance rule does (`acceptance.ts`), then emits the replacement of the
 *    first rejected one, or — all accepted — a bonus token from the last position: 1 to k + 1 tokens;
 * 4. rolls the caches back past what it kept: the main caches to the tokens emitted but the last, the
 *    MTP caches to the states that rest on verified tokens.
 * Sequences that cannot take drafts (a constraint restricts their tokens; no budget left) run the
 * same step with k = 0, an ordinary decode. Rows with equal k share a forward.
 */
import { Tensor, floatData } from '../../tensor/index.ts';
import type { SequenceCache } from '../../model/causal-lm.ts';
import type { DecodingModel } from '../batch-decoder.ts';
import type { Sequence } from '../sequence.ts';
import { greedyVerdict, verifyDraft } from './acceptance.ts';
import { MtpDrafter, type DraftToken } from './mtp-drafter.ts';
import { mtpModelFor, type MtpModel, type SpeculativeOptions } from './mtp-model.ts';
import { SpeculationCounts } from './stats.ts';

/** Records a token for a sequence from next-token logits: `token` when chosen already, else sampled. */
export type Emit = (s: Sequence, logits: Float32Array, token?: number) => void;

export class Speculator {
  readonly model: MtpModel;
  readonly draftTokens: number;
  /** Every verification so far. */
  readonly total: SpeculationCounts;
  private readonly drafter: MtpDrafter;

  /** Throws SpeculativeUnavailableError for a model without MTP modules, RangeError for bad options. */
  constructor(model: DecodingModel, options: SpeculativeOptions) {
    const m = mtpModelFor(model, options);
    this.model = m.model;
    this.draftTokens = m.draftTokens;
    this.total = new SpeculationCounts(this.draftTokens);
    this.drafter = new MtpDrafter(this.model);
  }

  /** A sequence's caches: the main model's, then its MTP module's. */
  newCache(capacity: number): SequenceCache {
    return [...this.model.newCache(capacity), ...this.model.newMtpCache(capacity)];
  }

  /** After a prefill forward of `n` prompt tokens per row: the MTP caches follow where they can. */
  prefilled(group: readonly Sequence[], final: Tensor, n: number): void {
    const states = floatData(final) as Float32Array;
    const per = states.length / group.length;
    group.forEach((s, b) => this.drafter.absorb(s, states.subarray(b * per, (b + 1) * per), n));
    this.drafter.catchUp(group, false);
  }

  /** Forgets a sequence that left. */
  forget(s: Sequence): void {
    this.drafter.forget(s);
  }

  /** Draft tokens `s` may take this step: none under a constraint, none past its budget or the context. */
  private budget(s: Sequence, maxContext: number): number {
    if (s.constrained) return 0;
    return Math.max(0, Math.min(this.draftTokens, s.maxTokens - s.generated.length - 1, maxContext - s.length - 1));
  }

  /**
   * The draft's token at one position: drawn from the MTP logits under the sequence's own sampling
   * rules. Greedy needs no distribution: the draft is the argmax (after penalties and bias).
   */
  private choose(s: Sequence, logits: Float32Array, before: readonly number[]): DraftToken {
    const history = before.length === 0 ? s.history : { prompt: s.prompt, generated: [...s.generated, ...before] };
    if (s.sampler.greedy) return { token: s.sampler.sample(s.biased(logits), history) };
    const q = s.sampler.probabilities(s.biased(logits), history);
    return { token: s.sampler.draw(q), q };
  }

  /**
   * One speculative decode step for `seqs` (all prefilled). Tokens go out through `emit`; returns
   * this step's counts. A forward that throws fails the sequences it carried.
   */
  decode(seqs: readonly Sequence[], maxContext: number, emit: Emit): SpeculationCounts {
    const counts = new SpeculationCounts(this.draftTokens);
    let drafts: DraftToken[][];
    try {
      drafts = this.drafter.draft(
        seqs,
        seqs.map((s) => this.budget(s, maxContext)),
        (s, logits, before) => this.choose(s, logits, before),
      );
    } catch (e) {
      for (const s of seqs) s.fail(e); // they shared the draft forwards
      return counts;
    }
    const groups = new Map<number, number[]>();
    seqs.forEach((_, i) => {
      const g = groups.get(drafts[i]!.length);
      if (g) g.push(i);
      else groups.set(drafts[i]!.length, [i]);
    });
    for (const [k, rows] of groups) {
      const T = k + 1;
      const group = rows.map((i) => seqs[i]!);
      let logits: Float32Array;
      let states: Float32Array;
      const fed = group.map((s) => s.cache![0]!.length);
      try {
        const ids = new Int32Array(group.length * T);
        rows.forEach((i, b) => {
          ids[b * T] = seqs[i]!.lastToken;
          drafts[i]!.forEach((d, j) => (ids[b * T + 1 + j] = d.token));
        });
        const out = this.model.forward(Tensor.from(ids, [group.length, T], 'i32'), {
          caches: group.map((s) => s.cache!),
          logits: 'all',
        });
        logits = floatData(out.logits!) as Float32Array;
        states = floatData(out.final) as Float32Array;
      } catch (e) {
        for (const s of group) s.fail(e);
        continue;
      }
      const V = logits.length / (group.length * T);
      const D = states.length / (group.length * T);
      rows.forEach((i, b) => {
        const s = group[b]!;
        const row = (j: number) => logits.subarray((b * T + j) * V, (b * T + j + 1) * V);
        const { emitted, accepted } = this.verify(s, drafts[i]!, row, emit);
        counts.record(k, accepted);
        // Keep what the emitted tokens (all but the last, which is fed next step) put in the caches.
        const kept = fed[b]! + emitted;
        for (const c of this.drafter.mainCaches(s)) c.truncate(kept);
        this.drafter.rollback(s, fed[b]!, states.subarray(b * T * D, (b * T + emitted) * D), emitted);
        s.draftedTokens += k;
        s.acceptedDraftTokens += accepted;
      });
    }
    this.total.add(counts);
    return counts;
  }

  /**
   * Emits tokens for one sequence from the target logits of its k + 1 verified positions: drafts
   * while accepted, then the replacement or the bonus token (unless a stop rule ended it first).
   */
  private verify(
    s: Sequence,
    drafts: readonly DraftToken[],
    target: (j: number) => Float32Array,
    emit: Emit,
  ): { emitted: number; accepted: number } {
    for (let j = 0; j < drafts.length; j++) {
      const d = drafts[j]!;
      const logits = target(j);
      // Greedy: p and q are point masses, so the rule keeps the draft iff it is the target's argmax
      // (the token ordinary greedy decoding takes here), else takes that argmax.
      const v = d.q
        ? verifyDraft(s.sampler.probabilities(s.biased(logits), s.history), d.q, d.token, () => s.sampler.uniform())
        : greedyVerdict(s.sampler.sample(s.biased(logits), s.history), d.token);
      emit(s, logits, v.token);
      if (!v.accepted) return { emitted: j + 1, accepted: j };
      if (s.finished) return { emitted: j + 1, accepted: j + 1 };
    }
    emit(s, target(drafts.length));
    return { emitted: drafts.length + 1, accepted: drafts.length };
  }
}
