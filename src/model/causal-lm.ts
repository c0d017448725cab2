/**
 * The decoder-only language model every family shares: embed → blocks → final RMSNorm → output head,
 * with optional MTP modules (DeepSeek-V3) and per-sequence caches for decoding.
 */
import * as T from '../tensor/index.ts';
import { Tensor } from '../tensor/index.ts';
import type { DecoderLayer } from './decoder.ts';
import type { MtpModule } from './mtp.ts';
import type { RotaryEmbedding } from './rope.ts';
import type { LayerCache } from './cache.ts';
import type { AttentionContext } from './attention.ts';
import { DeepSeekMoE, type Routing } from './moe.ts';

/** One cache per layer for one sequence. */
export type SequenceCache = LayerCache[];

export interface ForwardOptions {
  /** One SequenceCache per batch row: decode/prefill continuing where each cache ends. */
  caches?: SequenceCache[];
  /** Keep every hidden state (embeddings, each block's output, the final normed output). */
  hiddenStates?: boolean;
  /** Which positions get logits: all (default), only the last of each row, or none. */
  logits?: 'all' | 'last' | 'none';
}

/** The routing of one MoE block in a forward pass (MTP module k's block is layer numHiddenLayers + k). */
export interface LayerRouting {
  layer: number;
  routing: Routing;
}

export interface ForwardResult {
  /** [B, T, V] (or [B, 1, V] with logits: 'last'). */
  logits?: Tensor;
  /** hidden_states.0..L in transformers' convention, when asked for. */
  hiddenStates?: Tensor[];
  /** The final normed states [B, T, D] (the head's input; MTP's depth-0 representation). */
  final: Tensor;
  /** What each MoE block's router decided, in layer order (load statistics, balance loss). */
  routings: LayerRouting[];
}

export interface MtpResult {
  /** Depth k's logits [B, T − k, V], k = 1..D. */
  logits: Tensor[];
  /** The MTP blocks' routings. */
  routings: LayerRouting[];
}

/** One MTP step while decoding (speculative drafting). */
export interface MtpStepResult {
  /** The module's output states [B, T, D] (pre-norm; the next depth's input in training). */
  hidden: Tensor;
  /** Its normalised states [B, T, D] (the shared head's input; what a chained draft step feeds back). */
  normed: Tensor;
  /** Logits of one position of each row [B, 1, V] (the last unless asked otherwise). */
  logits: Tensor;
}

export interface CausalLMParts {
  embed: Tensor;
  layers: DecoderLayer[];
  norm: Tensor;
  head: Tensor;
  rotary: RotaryEmbedding;
  eps: number;
  mtp: MtpModule[];
}

export class CausalLM {
  readonly embed: Tensor;
  readonly layers: DecoderLayer[];
  readonly norm: Tensor;
  readonly head: Tensor;
  readonly rotary: RotaryEmbedding;
  readonly eps: number;
  readonly mtp: MtpModule[];

  constructor(parts: CausalLMParts) {
    this.embed = parts.embed;
    this.layers = parts.layers;
    this.norm = parts.norm;
    this.head = parts.head;
    this.rotary = parts.rotary;
    this.eps = parts.eps;
    this.mtp = parts.mtp;
  }

  get vocabSize(): number {
    return this.head.shape[0]!;
  }

  /** A fresh cache per layer for one sequence. */
  newCache(capacity: number): SequenceCache {
    return this.layers.map((l) => l.attention.newCache(capacity));
  }

  /** MTP modules (num_nextn_predict_layers): 0 when the checkpoint has none. */
  get mtpDepth(): number {
    return this.mtp.length;
  }

  /** A fresh cache per MTP module for one sequence (speculative decoding keeps it beside the main one). */
  newMtpCache(capacity: number): SequenceCache {
    return this.mtp.map((m) => m.block.attention.newCache(capacity));
  }

  /** The MoE blocks, in layer order (load statistics, bias updates). */
  moeLayers(): DeepSeekMoE[] {
    return this.layers.map((l) => l.ffn).filter((f): f is DeepSeekMoE => f instanceof DeepSeekMoE);
  }

  /** cos/sin for positions start..start+T−1 of each row. */
  ropeContext(B: number, Tn: number, caches?: SequenceCache[]): { cos: Tensor; sin: Tensor } {
    if (!caches) return this.rotary.tables(Int32Array.from({ length: Tn }, (_, i) => i));
    const starts = caches.map((c) => c[0]?.length ?? 0);
    if (starts.every((s) => s === starts[0])) return this.rotary.tables(Int32Array.from({ length: Tn }, (_, i) => starts[0]! + i));
    const pos = new Int32Array(B * Tn);
    for (let b = 0; b < B; b++) for (let t = 0; t < Tn; t++) pos[b * Tn + t] = starts[b]! + t;
    return this.rotary.tables(pos, B);
  }

  forward(ids: Tensor, opts: ForwardOptions = {}): ForwardResult {
    if (ids.rank !== 2) throw new Error(`input ids must be [batch, time], got [${ids.shape}]`);
    const [B, Tn] = ids.shape as [number, number];
    if (opts.caches && opts.caches.length !== B) throw new Error(`${opts.caches.length} caches for a batch of ${B}`);
    const rope = this.ropeContext(B, Tn, opts.caches);
    let x = T.embedding(this.embed, ids);
    const hidden: Tensor[] = [];
    const routings: LayerRouting[] = [];
    if (opts.hiddenStates) hidden.push(x);
    this.layers.forEach((layer, i) => {
      const ctx: AttentionContext = { ...rope, caches: opts.caches?.map((c) => c[i]!) };
      const out = layer.forward(x, ctx);
      x = out.hidden;
      if (out.routing) routings.push({ layer: i, routing: out.routing });
      if (opts.hiddenStates && i < this.layers.length - 1) hidden.push(x);
    });
    const final = T.rmsNorm(x, this.norm, this.eps);
    if (opts.hiddenStates) hidden.push(final);
    const mode = opts.logits ?? 'all';
    let logits: Tensor | undefined;
    if (mode === 'all') logits = T.linear(final, this.head);
    else if (mode === 'last') logits = T.linear(T.slice(final, 1, Tn - 1, Tn), this.head);
    return { logits, hiddenStates: opts.hiddenStates ? hidden : undefined, final, routings };
  }

  /**
   * MTP module `depth` (1-based) over cached positions, for drafting: row b's position i (continuing
   * where `caches[b]`, the sequence's MTP caches, end) combines `previous` [B, T, D] — the state of
   * token i at depth − 1 (`final` for depth 1) — with the embedding of token i + 1 in `nextIds`
   * [B, T], and its logits guess token i + 2, as in training with k = depth. Logits come for one
   * position per row: the last, or `at[b]` (rows of unequal length padded at the end share a step).
   */
  mtpStep(depth: number, previous: Tensor, nextIds: Tensor, caches: SequenceCache[], at?: readonly number[]): MtpStepResult {
    const module = this.mtp[depth - 1];
    if (!module) throw new RangeError(`this model has ${this.mtp.length} MTP modules, not ${depth}`);
    const [B, Tn] = nextIds.shape as [number, number];
    const layer = caches.map((c) => [c[depth - 1]!]);
    const rope = this.ropeContext(B, Tn, layer);
    const r = module.forward(previous, T.embedding(this.embed, nextIds), { ...rope, caches: layer.map((c) => c[0]!) });
    const D = r.normed.shape[2]!;
    const rows =
      at === undefined || at.every((t) => t === Tn - 1)
        ? T.slice(r.normed, 1, Tn - 1, Tn)
        : T.reshape(
            T.indexSelect(
              T.reshape(r.normed, [B * Tn, D]),
              Int32Array.from(at, (t, b) => b * Tn + t),
            ),
            [B, 1, D],
          );
    return { hidden: r.hidden, normed: r.normed, logits: T.linear(rows, this.head) };
  }

  /**
   * MTP predictions for training: depth k (1-based) gives logits [B, T − k, V] whose position i
   * predicts token i + k + 1. Uses `final` from forward() as depth 0.
   */
  mtpLogits(ids: Tensor, final: Tensor): MtpResult {
    const Tn = ids.shape[1]!;
    const out: Tensor[] = [];
    const routings: LayerRouting[] = [];
    let prev = final;
    this.mtp.forEach((module, d) => {
      const k = d + 1;
      const len = Tn - k;
      if (len <= 0) return;
      const h = T.slice(prev, 1, 0, len);
      const nextEmb = T.embedding(this.embed, T.contiguous(T.slice(ids, 1, k, k + len)));
      const rope = this.rotary.tables(Int32Array.from({ length: len }, (_, i) => i));
      const r = module.forward(h, nextEmb, { ...rope });
      out.push(T.linear(r.normed, this.head));
      if (r.routing) routings.push({ layer: this.layers.length + d, routing: r.routing });
      prev = r.hidden;
    });
    return { logits: out, routings };
  }
}
