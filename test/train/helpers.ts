// Shared pieces of the training tests: temp folders, a tiny DeepSeek-V3 config, a repetitive
// corpus, a tokenizer trained on it in-process, and a run config tying them together.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { saveTrainedTokenizer, trainBpe } from '../../src/tokenizer/train.ts';
import { BOS_TOKEN, EOS_TOKEN } from '../../src/train/tokenizer-setup.ts';

export function tempDir(t: TestContext, prefix = 'dsts-train-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A DeepSeek-V3 small enough for a step to take milliseconds: hidden 32, 2 layers (1 MoE), 4 experts, 1 MTP module. */
export const TINY_V3 = {
  model_type: 'deepseek_v3',
  hidden_size: 32,
  intermediate_size: 64,
  moe_intermediate_size: 16,
  num_hidden_layers: 2,
  first_k_dense_replace: 1,
  num_attention_heads: 2,
  num_key_value_heads: 2,
  q_lora_rank: 16,
  kv_lora_rank: 16,
  qk_nope_head_dim: 8,
  qk_rope_head_dim: 8,
  v_head_dim: 8,
  n_routed_experts: 4,
  n_shared_experts: 1,
  num_experts_per_tok: 2,
  n_group: 2,
  topk_group: 1,
  num_nextn_predict_layers: 1,
  max_position_embeddings: 128,
  rope_scaling: null,
};

const SENTENCES = ['the cat sat on the mat.', 'the dog ran to the park.', 'a red ball is fun.', 'birds sing in the morning.'];

/** `paragraphs` blank-line separated paragraphs of four sentences from a small, repetitive set. */
export function repetitiveText(paragraphs: number, seed = 1): string {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const out: string[] = [];
  for (let p = 0; p < paragraphs; p++) {
    out.push(Array.from({ length: 4 }, () => SENTENCES[Math.floor(next() * SENTENCES.length)]!).join(' '));
  }
  return out.join('\n\n') + '\n';
}

/** Trains a small BPE on `text` and writes tokenizer.json (+ config) into `dir`; returns the tokenizer.json path. */
export function trainTinyTokenizer(dir: string, text: string, vocabSize = 300): string {
  const trained = trainBpe([text], { vocabSize, specialTokens: [BOS_TOKEN, EOS_TOKEN], bosToken: BOS_TOKEN, eosToken: EOS_TOKEN });
  saveTrainedTokenizer(dir, trained, { force: true });
  return join(dir, 'tokenizer.json');
}

/** A corpus file and tokenizer in `dir`, and a run config object for them (paths absolute). */
export function tinyRun(dir: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const text = repetitiveText(120);
  writeFileSync(join(dir, 'corpus.txt'), text);
  const tokenizer = trainTinyTokenizer(join(dir, 'tok'), text);
  return {
    model: TINY_V3,
    data: { train: join(dir, 'corpus.txt'), valFraction: 0.1, shuffleBuffer: 64 },
    tokenizer,
    seqLen: 16,
    batchSize: 4,
    steps: 8,
    optimizer: { lr: 0.01 },
    schedule: { kind: 'cosine', warmup: 2 },
    eval: { interval: 4, batches: 1 },
    checkpoint: { interval: 0, dtype: 'f32' },
    out: join(dir, 'run'),
    ...overrides,
  };
}
