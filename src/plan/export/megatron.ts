/**
 * A Megatron-LM (Megatron-Core) pre-training launch for the same model, optimizer, schedule, data and
 * parallel layout as this project's run. Megatron-LM is the trainer chosen (docs/scale.md says why):
 * it implements every DeepSeek-V3 piece this project trains — MLA, DeepSeekMoE with sigmoid scores,
 * group-limited routing, the aux-loss-free expert bias and the sequence-wise balance loss, MTP,
 * block-scaled FP8 GEMMs, bf16 AdamW moments — with expert, pipeline, tensor and ZeRO-style data
 * parallelism. Flag names follow Megatron-LM's own DeepSeek model arguments
 * (examples/post_training/modelopt/conf/deepseek-ai/DeepSeek-R1.sh) and megatron/training/arguments.py.
 */
import { isMoeLayer, type ModelConfig } from '../../io/config.ts';
import type { RunConfig } from '../../train/config/run-config.ts';
import type { Staged } from '../../train/schedule.ts';
import type { Layout } from '../layout.ts';
import { shellQuote } from './shell.ts';

export interface MegatronInput {
  config: ModelConfig;
  /** The project's run config, when there is one (optimizer, schedule, data, losses). */
  run: RunConfig | null;
  layout: Layout;
  /** Steps and tokenizer folder (the checkpoint's, where tokenizer.json lies). */
  steps: number;
  tokenizer: string;
  /** Megatron indexed dataset prefix the preprocessing writes. */
  dataPrefix: string;
}

/** A number without float noise (3e-4 × 0.1 → 0.00003). */
const num = (x: number) => String(Number(x.toPrecision(6)));
const first = (s: Staged) => (typeof s === 'number' ? s : s[0]!.value);
const staged = (s: Staged) => typeof s !== 'number' && s.length > 1;

/** Model-shape arguments. */
export function megatronModelArgs(c: ModelConfig): string[] {
  const a = [
    '--num-layers',
    c.numHiddenLayers,
    '--hidden-size',
    c.hiddenSize,
    '--ffn-hidden-size',
    c.intermediateSize,
    '--num-attention-heads',
    c.numAttentionHeads,
    '--vocab-size',
    c.vocabSize,
    '--max-position-embeddings',
    c.maxPositionEmbeddings,
    '--normalization',
    'RMSNorm',
    '--norm-epsilon',
    c.rmsNormEps,
    '--swiglu',
    '--position-embedding-type',
    'rope',
    '--rotary-base',
    c.ropeTheta,
    '--disable-bias-linear',
  ].map(String);
  if (!c.tieWordEmbeddings) a.push('--untie-embeddings-and-output-weights');
  if (c.ropeScaling.type === 'yarn') {
    a.push('--rotary-scaling-factor', String(c.ropeScaling.factor));
    if (c.ropeScaling.mscale !== null) a.push('--mscale', String(c.ropeScaling.mscale));
    if (c.ropeScaling.mscaleAllDim !== null) a.push('--mscale-all-dim', String(c.ropeScaling.mscaleAllDim));
  }
  if (c.modelType === 'deepseek_v3' || c.modelType === 'deepseek_v2') {
    a.push('--multi-latent-attention', '--kv-lora-rank', String(c.kvLoraRank), '--qk-head-dim', String(c.qkNopeHeadDim));
    a.push(
      '--qk-pos-emb-head-dim',
      String(c.qkRopeHeadDim),
      '--v-head-dim',
      String(c.vHeadDim),
      '--kv-channels',
      String(c.vHeadDim),
      '--qk-layernorm',
    );
    if (c.qLoraRank !== null) a.push('--q-lora-rank', String(c.qLoraRank));
    const pattern = Array.from({ length: c.numHiddenLayers }, (_, i) => (isMoeLayer(c, i) ? 1 : 0));
    const dense = pattern.indexOf(1);
    const freq =
      dense >= 0 && pattern.slice(dense).every((x) => x === 1)
        ? `([0]*${dense}+[1]*${c.numHiddenLayers - dense})`
        : `[${pattern.join(',')}]`;
    a.push(
      '--num-experts',
      String(c.nRoutedExperts),
      '--moe-layer-freq',
      shellQuote(freq),
      '--moe-ffn-hidden-size',
      String(c.moeIntermediateSize),
    );
    a.push('--moe-router-topk', String(c.numExpertsPerTok), '--moe-router-score-function', c.scoringFunc, '--moe-router-dtype', 'fp32');
    if (c.nSharedExperts > 0) a.push('--moe-shared-expert-intermediate-size', String(c.nSharedExperts * c.moeIntermediateSize));
    if (c.nGroup > 1) a.push('--moe-router-num-groups', String(c.nGroup), '--moe-router-group-topk', String(c.topkGroup));
    if (c.routedScalingFactor !== 1) a.push('--moe-router-topk-scaling-factor', String(c.routedScalingFactor));
    a.push('--moe-token-dispatcher-type', 'alltoall', '--moe-grouped-gemm');
  } else {
    a.push('--kv-channels', String(c.headDim));
    if (c.numKeyValueHeads !== c.numAttentionHeads) a.push('--group-query-attention', '--num-query-groups', String(c.numKeyValueHeads));
    if (c.modelType === 'qwen2' || c.attentionBias) a.push('--add-qkv-bias');
  }
  return a;
}

/** The whole launch script: data preprocessing, then `torchrun pretrain_gpt.py` with every argument. */
export function megatronScript(m: MegatronInput): string {
  const { config: c, run, layout: l } = m;
  const opt = run?.optimizer;
  const train: string[] = [
    '--micro-batch-size',
    l.microBatch,
    '--global-batch-size',
    l.globalBatch,
    '--seq-length',
    l.seqLen,
    '--train-iters',
    m.steps,
    '--lr',
    opt?.lr ?? 3e-4,
    '--adam-beta1',
    opt?.beta1 ?? 0.9,
    '--adam-beta2',
    opt?.beta2 ?? 0.95,
    '--adam-eps',
    opt?.eps ?? 1e-8,
    '--weight-decay',
    opt?.weightDecay ?? 0.1,
    '--clip-grad',
    opt?.gradClip ?? 1.0,
  ].map(String);
  const notes: string[] = [];
  const sch = run?.schedule;
  if (sch !== undefined) {
    train.push('--lr-warmup-iters', String(sch.warmup));
    if (sch.kind === 'cosine') train.push('--lr-decay-style', 'cosine', '--min-lr', num(opt!.lr * sch.minLrRatio));
    else if (sch.kind === 'constant') train.push('--lr-decay-style', 'constant');
    else if (sch.kind === 'wsd') {
      const shape = { linear: 'linear', cosine: 'cosine', sqrt: 'minus_sqrt' }[sch.decayShape];
      train.push(
        '--lr-decay-style',
        'WSD',
        '--lr-wsd-decay-style',
        shape,
        '--lr-wsd-decay-iters',
        String(Math.round(sch.decayFraction * m.steps)),
        '--min-lr',
        num(opt!.lr * sch.minLrRatio),
      );
    } else {
      train.push('--lr-decay-style', 'cosine', '--min-lr', num(opt!.lr * sch.minLrRatio));
      notes.push(
        "the deepseek-v3 schedule's constant head and two-step tail have no Megatron flag: approximated by warmup + cosine to minLrRatio",
      );
    }
  }
  if (run !== null) {
    train.push('--seed', String(run.seed));
    if (run.initStd !== null) train.push('--init-method-std', String(run.initStd));
    if (run.batchRamp !== null) notes.push('the batch-size ramp maps to --rampup-batch-size <start> <increment> <samples>: set it by hand');
  }
  const moe = c.modelType === 'deepseek_v3' || c.modelType === 'deepseek_v2';
  const losses: string[] = [];
  if (moe) {
    const mtp = c.numNextnPredictLayers;
    if (mtp > 0 && run !== null) {
      losses.push('--mtp-num-layers', String(mtp), '--mtp-loss-scaling-factor', String(first(run.mtpWeight)));
      if (staged(run.mtpWeight))
        notes.push(`the MTP weight is staged in the run (${JSON.stringify(run.mtpWeight)}); Megatron takes one value: the first stage's`);
    }
    const alpha = run?.balanceAlpha ?? c.auxLossAlpha;
    losses.push('--moe-router-load-balancing-type', 'seq_aux_loss', '--moe-aux-loss-coeff', String(alpha));
    if (run === null || run.biasUpdate.enabled) {
      const gamma = run === null ? 0.001 : first(run.biasUpdate.gamma);
      losses.push('--moe-router-enable-expert-bias', '--moe-router-bias-update-rate', String(gamma));
      if (run !== null && staged(run.biasUpdate.gamma))
        notes.push("the bias speed γ is staged in the run; Megatron takes one value: the first stage's");
    }
  }
  const par: string[] = ['--tensor-model-parallel-size', l.tp, '--pipeline-model-parallel-size', l.pp].map(String);
  if (moe) par.push('--expert-model-parallel-size', String(l.ep));
  if (l.tp > 1) par.push('--sequence-parallel');
  if (l.zero >= 1) par.push('--use-distributed-optimizer');
  if (l.zero >= 2)
    notes.push(
      `ZeRO-${l.zero}: Megatron's distributed optimizer shards optimizer states and gradients (ZeRO-2); ZeRO-3 would be torch FSDP (--use-torch-fsdp2)`,
    );
  const prec: string[] = ['--bf16'];
  if (l.compute === 'fp8') prec.push('--fp8-format', 'e4m3', '--fp8-recipe', 'blockwise');
  if (l.moments === 'bf16') prec.push('--use-precision-aware-optimizer', '--exp-avg-dtype', 'bf16', '--exp-avg-sq-dtype', 'bf16');
  if (l.recompute === 'selective') prec.push('--recompute-granularity', 'selective');
  else if (l.recompute === 'full')
    prec.push('--recompute-granularity', 'full', '--recompute-method', 'uniform', '--recompute-num-layers', '1');
  if (l.schedule !== '1f1b')
    notes.push(`${l.schedule} has no Megatron-LM flag; Megatron runs 1F1B (interleaved with --num-layers-per-virtual-pipeline-stage)`);

  const corpus = run?.data.train ?? [];
  const field = run?.data.jsonlField ?? 'text';
  const jsonl = corpus.filter((f) => f.endsWith('.jsonl'));
  if (corpus.length > 0 && jsonl.length < corpus.length)
    notes.push('Megatron preprocesses JSONL only: convert the .txt/.md files (one {"text": …} per document) first');
  const arr = (name: string, xs: string[]) => {
    const lines: string[] = [];
    for (let i = 0; i < xs.length; i++) {
      if (xs[i]!.startsWith('--') && (i + 1 >= xs.length || xs[i + 1]!.startsWith('--'))) lines.push(`  ${xs[i]}`);
      else if (xs[i]!.startsWith('--')) lines.push(`  ${xs[i]} ${xs[++i]}`);
    }
    return `${name}=(\n${lines.join('\n')}\n)`;
  };
  return [
    '#!/usr/bin/env bash',
    `# Megatron-LM pre-training of ${c.source}, written by \`dsts export\`.`,
    '# Run from a Megatron-LM checkout (MEGATRON) on every node; NNODES, NODE_RANK, MASTER_ADDR set by the launcher.',
    ...notes.map((n) => `# NOTE: ${n}`),
    'set -euo pipefail',
    ': "${MEGATRON:?path of a Megatron-LM checkout}"',
    `GPUS_PER_NODE=\${GPUS_PER_NODE:-8}`,
    '',
    '# 1. Tokenize the corpus into an indexed dataset (once).',
    ...(jsonl.length > 0 ? jsonl : ['<corpus.jsonl>']).map(
      (f, i) =>
        `python3 "$MEGATRON/tools/preprocess_data.py" --input ${shellQuote(f)} --json-keys ${shellQuote(field)} --tokenizer-type HuggingFaceTokenizer --tokenizer-model ${shellQuote(m.tokenizer)} --output-prefix ${shellQuote(`${m.dataPrefix}${i === 0 ? '' : `_${i}`}`)} --append-eod --workers 8`,
    ),
    '',
    arr('MODEL_ARGS', megatronModelArgs(c)),
    arr('TRAIN_ARGS', train),
    arr('LOSS_ARGS', losses),
    arr('PARALLEL_ARGS', par),
    arr('PRECISION_ARGS', prec),
    arr('DATA_ARGS', [
      '--data-path',
      shellQuote(`${m.dataPrefix}_text_document`),
      '--tokenizer-type',
      'HuggingFaceTokenizer',
      '--tokenizer-model',
      shellQuote(m.tokenizer),
      '--split',
      '99,1,0',
      '--save',
      'checkpoints/megatron',
      '--save-interval',
      String(run?.checkpoint.interval || 1000),
      '--eval-interval',
      String(run?.eval.interval || 1000),
      '--eval-iters',
      String(run?.eval.batches ?? 10),
    ]),
    '',
    'torchrun --nproc-per-node "$GPUS_PER_NODE" --nnodes "${NNODES:-1}" --node-rank "${NODE_RANK:-0}" \\',
    '  --master-addr "${MASTER_ADDR:-localhost}" --master-port "${MASTER_PORT:-6000}" \\',
    '  "$MEGATRON/pretrain_gpt.py" "${MODEL_ARGS[@]}" "${TRAIN_ARGS[@]}" "${LOSS_ARGS[@]}" "${PARALLEL_ARGS[@]}" "${PRECISION_ARGS[@]}" "${DATA_ARGS[@]}"',
    '',
  ].join('\n');
}
