/**
 * Sampling completions for RL and rejection sampling through the batched decoder (src/generate):
 * every completion of every prompt decodes in one continuous batch, each with its own cache (MLA's
 * latent cache, or a KV cache) and its own seeded sampler — so a step's rollouts are reproducible
 * from (run seed, step), which is what makes a resumed GRPO run draw the same completions.
 */
import { BatchDecoder, type DecodingModel } from '../generate/batch-decoder.ts';
import type { FinishReason } from '../generate/sequence.ts';
import type { SamplingParams } from '../generate/sampler.ts';
import type { Tokenizer } from '../tokenizer/index.ts';

export interface RolloutOptions {
  /** Completions per prompt. */
  n: number;
  /** Temperature, top-p, top-k... (the seed is derived per completion). */
  sampling: Omit<SamplingParams, 'seed'>;
  maxTokens: number;
  /** Ids that end a completion (kept as its last token, as TRL keeps the EOS). */
  stopTokenIds: readonly number[];
  /** Base seed; completion k of prompt i draws with a seed mixed from (seed, i, k). */
  seed: number;
  maxContext?: number;
}

export interface Completion {
  ids: number[];
  /** Decoded without special tokens (what reward functions read). */
  text: string;
  finishReason: FinishReason;
}

/** A 32-bit mix of integers (splitmix-style), for per-completion seeds. */
export function mixSeed(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** `n` completions of each prompt, grouped by prompt (TRL's order when flattened). */
export function rollout(
  model: DecodingModel,
  tokenizer: Tokenizer,
  prompts: readonly (readonly number[])[],
  o: RolloutOptions,
): { groups: Completion[][]; tokens: number; seconds: number } {
  const t0 = performance.now();
  const decoder = new BatchDecoder(model, { maxContext: o.maxContext });
  const seqs = prompts.map((prompt, i) =>
    Array.from({ length: o.n }, (_, k) =>
      decoder.add({
        prompt,
        maxTokens: o.maxTokens,
        sampling: { ...o.sampling, seed: mixSeed(o.seed, i, k) },
        stopTokenIds: o.stopTokenIds,
      }),
    ),
  );
  while (!decoder.idle) decoder.step();
  let tokens = 0;
  const groups = seqs.map((g) =>
    g.map((s) => {
      tokens += s.generated.length;
      return { ids: [...s.generated], text: tokenizer.decode(s.generated, { skipSpecialTokens: true }), finishReason: s.finishReason! };
    }),
  );
  return { groups, tokens, seconds: (performance.now() - t0) / 1000 };
}

/** The ids that end a completion: the tokenizer's EOS and the config's eos ids inside the vocabulary. */
export function stopIds(tokenizer: Tokenizer, configEos: number | readonly number[] | null | undefined, vocab: number): number[] {
  const ids = new Set<number>();
  for (const t of [tokenizer.specialTokens.eos_token]) {
    const id = t === undefined ? undefined : tokenizer.tokenToId(t);
    if (id !== undefined) ids.add(id);
  }
  for (const id of configEos === null || configEos === undefined ? [] : typeof configEos === 'number' ? [configEos] : configEos)
    ids.add(id);
  return [...ids].filter((id) => id >= 0 && id < vocab);
}
