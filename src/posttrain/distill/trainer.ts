/**
 * `dsts distill`: knowledge distillation on the pre-training loop (src/train/trainer.ts) — its
 * data pipeline, optimizer, schedule, evaluation, HF checkpoints, exact resume, metrics.jsonl and
 * plots — with the distillation objective (objective.ts) in place of DeepSeek-V3's.
 *
 * Before training: the teacher and the student must share the vocabulary (soft labels are compared
 * token by token); with a teacher cache, the soft labels of every sequence the run will draw are
 * computed first (teacher-cache.ts) and the teacher is let go unless hidden states need it.
 */
import { join } from 'node:path';
import { Trainer, type TrainResult } from '../../train/trainer.ts';
import { TrainLoader } from '../../train/data/loader.ts';
import { accumAt } from '../../train/config/recipe.ts';
import { openTokenizer } from '../../train/tokenizer-setup.ts';
import { readJson } from '../../train/config/run-config.ts';
import { isObject } from '../../train/config/reader.ts';
import type { ProgressInfo } from '../../train/progress.ts';
import type { EvalMetrics, StepMetrics } from '../../train/metrics.ts';
import { parseConfig, type ModelConfig } from '../../io/config.ts';
import { loadModel } from '../../model/load.ts';
import type { CausalLM } from '../../model/causal-lm.ts';
import type { Tokenizer } from '../../tokenizer/index.ts';
import { floatData } from '../../tensor/index.ts';
import { statSync } from 'node:fs';
import { PosttrainError } from '../errors.ts';
import { distillRunJson, type DistillConfig } from './config.ts';
import { HiddenMatcher } from './hidden.ts';
import { AttentionMatcher } from './attention.ts';
import { DistillObjective } from './objective.ts';
import { fillTeacherCache, TeacherCache } from './teacher-cache.ts';

export interface DistillOptions {
  config: DistillConfig;
  resume?: string;
  force?: boolean;
  signal?: AbortSignal;
  log?: (line: string) => void;
  progress?: (p: ProgressInfo) => void;
  onStep?: (m: StepMetrics) => void;
  onEval?: (m: EvalMetrics) => void;
}

export const SEQUENCE_LEVEL_HINT =
  'distil across tokenizers by the sequence-level route instead: generate with the teacher (dsts sample), then train the student on its text (dsts sft, or dsts train / dsts distill with distill.alpha 0 on it); see docs/distillation.md';

/** Whether two tokenizers map every id to the same token. */
export function sameVocabulary(a: Tokenizer, b: Tokenizer): boolean {
  if (a.vocabSize !== b.vocabSize) return false;
  for (let id = 0; id < a.vocabSize; id++) if (a.idToToken(id) !== b.idToToken(id)) return false;
  return true;
}

function teacherConfig(dir: string): ModelConfig {
  const json = readJson(join(dir, 'config.json'), 'the teacher model config');
  if (!isObject(json)) throw new PosttrainError(`${dir}/config.json: not a JSON object`);
  return parseConfig(json, `${dir}/config.json`);
}

/** Checks the student can learn from the teacher's soft labels: the same tokenizer, the same vocabulary size. */
function checkVocabulary(cfg: DistillConfig, teacher: ModelConfig): void {
  const tok = cfg.run.tokenizer;
  if (tok.kind !== 'file')
    throw new PosttrainError(
      `soft-label distillation needs the teacher's tokenizer: remove "tokenizer" from the config (it defaults to the teacher's); ${SEQUENCE_LEVEL_HINT}`,
    );
  const mine = openTokenizer(tok.path).tokenizer;
  const theirs = openTokenizer(cfg.distill.teacher).tokenizer;
  if (!sameVocabulary(mine, theirs))
    throw new PosttrainError(
      `soft-label distillation needs the same vocabulary, and the student's tokenizer (${tok.path}) differs from the teacher's (${cfg.distill.teacher}); ${SEQUENCE_LEVEL_HINT}`,
    );
  const sv = cfg.run.model.vocab_size;
  if (typeof sv === 'number' && sv !== teacher.vocabSize)
    throw new PosttrainError(
      `the student's vocab_size (${sv}) differs from the teacher's (${teacher.vocabSize}): soft labels need one vocabulary; ${SEQUENCE_LEVEL_HINT}`,
    );
}

/** Copies a model folder's weights into the new run's student (same names and shapes, as f32). */
function initStudent(trainer: Trainer, dir: string): void {
  const src = loadModel(dir, { dtype: 'f32' }).weights;
  for (const name of trainer.weights.names()) {
    const dst = trainer.weights.get(name);
    const t = src.maybe(name);
    if (!t) throw new PosttrainError(`distill.initFrom: ${dir} has no '${name}' (is its config.json the student's model config?)`);
    if (t.size !== dst.size)
      throw new PosttrainError(`distill.initFrom: '${name}' is [${t.shape}] in ${dir}, the student's is [${dst.shape}]`);
    (dst.data as Float32Array).set(floatData(t));
  }
}

/** Every sequence the run will still draw (a second loader from the first one's state). */
function upcomingSequences(trainer: Trainer): Int32Array[] {
  const cfg = trainer.config;
  const loader = new TrainLoader(trainer.loaderOptions, trainer.loader.state());
  const out: Int32Array[] = [];
  try {
    for (let s = trainer.step; s < cfg.steps; s++) {
      const n = cfg.batchSize * accumAt(cfg.batchRamp, cfg.gradAccum, s);
      for (let i = 0; i < n; i++) out.push(loader.nextSequence().slice());
    }
  } finally {
    loader.close();
  }
  return out;
}

/** Refuses a (teacher, student) layer pair past either model's last layer; `range` names the first. */
function checkPairs(
  key: string,
  pairs: readonly (readonly [number, number])[],
  range: string,
  teacherLast: number,
  studentLast: number,
): void {
  for (const [t, s] of pairs) {
    if (t > teacherLast) throw new PosttrainError(`${key}: the teacher has ${range}..${teacherLast}, not ${t}`);
    if (s > studentLast) throw new PosttrainError(`${key}: the student has ${range}..${studentLast}, not ${s}`);
  }
}

export async function distill(opts: DistillOptions): Promise<TrainResult> {
  const cfg = opts.config;
  const d = cfg.distill;
  const log = opts.log ?? (() => {});
  const tcfg = teacherConfig(d.teacher);
  const usesTeacher = d.alpha > 0 || d.hidden !== null || d.attention !== null;
  if (usesTeacher) checkVocabulary(cfg, tcfg);

  let hidden: HiddenMatcher | null = null;
  if (d.hidden) {
    const sw = cfg.run.model.hidden_size;
    const sl = cfg.run.model.num_hidden_layers;
    if (typeof sw !== 'number' || typeof sl !== 'number')
      throw new PosttrainError(`${cfg.run.source}: the student model config needs hidden_size and num_hidden_layers`);
    checkPairs('distill.hidden.pairs', d.hidden.pairs, 'hidden states 0', tcfg.numHiddenLayers, sl);
    hidden = new HiddenMatcher(d.hidden, sw, tcfg.hiddenSize, cfg.run.seed);
  }
  let attention: AttentionMatcher | null = null;
  if (d.attention) {
    const sl = cfg.run.model.num_hidden_layers;
    const sh = cfg.run.model.num_attention_heads;
    if (typeof sl !== 'number' || typeof sh !== 'number')
      throw new PosttrainError(`${cfg.run.source}: the student model config needs num_hidden_layers and num_attention_heads`);
    checkPairs('distill.attention.pairs', d.attention.pairs, 'blocks 1', tcfg.numHiddenLayers, sl);
    if (tcfg.numAttentionHeads % sh !== 0)
      throw new PosttrainError(
        `distill.attention: the teacher's ${tcfg.numAttentionHeads} heads cannot be matched to the student's ${sh} (the teacher's must be a multiple)`,
      );
    attention = new AttentionMatcher(d.attention, tcfg.numAttentionHeads, sh);
  }
  const objective = new DistillObjective(d, hidden, attention, distillRunJson(cfg), cfg.run.seed);
  // The cache's settings are checked before the run folder is touched.
  if (d.alpha > 0 && d.teacherCache) {
    objective.cache = TeacherCache.open(d.teacherCache.path, {
      format: 'dsts-teacher-topk',
      version: 1,
      teacher: { dir: d.teacher, bytes: statSync(join(d.teacher, 'model.safetensors')).size },
      k: d.teacherCache.topK,
      temperature: d.temperature,
      vocab: tcfg.vocabSize,
      seqLen: cfg.run.seqLen,
    });
  }
  let trainer: Trainer;
  try {
    trainer = Trainer.create({ ...opts, config: cfg.run, objective });
  } catch (e) {
    objective.cache?.close();
    throw e;
  }

  objective.tokenizer = trainer.tokenizer;
  if (d.initFrom !== null && trainer.step === 0) {
    try {
      initStudent(trainer, d.initFrom);
    } catch (e) {
      objective.cache?.close();
      trainer.close();
      throw e;
    }
    log(`student: weights from ${d.initFrom}`);
  }
  let teacher: CausalLM | null = null;
  const loadTeacher = (): CausalLM => {
    if (!teacher) {
      log(`teacher: ${d.teacher} (${tcfg.modelType})`);
      teacher = loadModel(d.teacher, { dtype: 'f32' }).model;
    }
    return teacher;
  };
  try {
    if (trainer.modelConfig.vocabSize !== tcfg.vocabSize && usesTeacher)
      throw new PosttrainError(
        `the student's vocabulary (${trainer.modelConfig.vocabSize}) differs from the teacher's (${tcfg.vocabSize}); ${SEQUENCE_LEVEL_HINT}`,
      );
    const cache = objective.cache;
    if (cache && d.teacherCache) {
      const seqs = upcomingSequences(trainer);
      const missing = seqs.filter((s) => !cache.has(s)).length;
      if (missing > 0) {
        log(`teacher cache ${d.teacherCache.path}: ${missing} of ${seqs.length} sequences to label (top-${d.teacherCache.topK})`);
        fillTeacherCache(cache, loadTeacher(), seqs, cfg.run.batchSize, log);
      } else log(`teacher cache ${d.teacherCache.path}: all ${seqs.length} sequences labelled`);
      if (!objective.needsTeacher) teacher = null; // let it go before training
    }
    if (objective.needsTeacher) objective.teacher = loadTeacher();
    return await trainer.run();
  } finally {
    objective.cache?.close();
    trainer.close();
  }
}
