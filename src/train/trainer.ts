/**
 * The pre-training loop. One optimizer step:
 *
 *   for each of gradAccum micro-batches [B, T+1] from the loader:
 *     forward + DeepSeek-V3 objective (CE + λ·MTP + balance) → backward (gradients accumulate,
 *     each micro-batch weighted 1/gradAccum), record the experts' load;
 *   global gradient norm → clip factor → AdamW at the scheduled learning rate;
 *   aux-loss-free router-bias update from the step's loads (when enabled).
 *
 * Around it: evaluation on held-out sequences every `eval.interval` steps, metrics per step, a
 * checkpoint every `checkpoint.interval` steps, at the end, and when asked to stop (SIGINT), and
 * resuming from any checkpoint to the very losses an uninterrupted run gets.
 */
import { join } from 'node:path';
import * as T from '../tensor/index.ts';
import { Tensor } from '../tensor/index.ts';
import { parseConfig, type ModelConfig } from '../io/config.ts';
import { buildModel } from '../model/registry.ts';
import { initWeights } from '../model/init.ts';
import type { CausalLM } from '../model/causal-lm.ts';
import type { MapWeights } from '../model/weights.ts';
import { corpusFingerprint, restoreWeights, scheduleChangeWarning } from './resume.ts';
import type { Tokenizer } from '../tokenizer/index.ts';
import { lmObjective, type TrainObjective } from './objective.ts';
import { LoadTracker } from './balance.ts';
import { withPrecision } from './precision.ts';
import { AdamW } from './optim/adamw.ts';
import { clipScale, gradNorm } from './optim/clip.ts';
import { trainableParams, type Param } from './optim/params.ts';
import { learningRate, stagedValue } from './schedule.ts';
import { accumAt } from './config/recipe.ts';
import { readJson, runConfigJson, type RunConfig } from './config/run-config.ts';
import { isObject, type JsonObject } from './config/reader.ts';
import { listCorpusFiles, type CorpusFile } from './data/files.ts';
import { corpusEncoder } from './data/encoder.ts';
import { evalSequences, TrainLoader, type LoaderOptions, type LoaderState } from './data/loader.ts';
import type { CorpusEncoder } from './data/token-stream.ts';
import { evaluate, type EvalResult } from './evaluate.ts';
import { readTrainerState, resolveCheckpoint, saveCheckpoint, type TrainerStateJson } from './checkpoint.ts';
import { loaderJson, loaderTensors, optimizerTensors, restoreLoaderState, restoreOptimizer } from './state.ts';
import { MetricsLog, type EvalMetrics, type StepMetrics } from './metrics.ts';
import { METRICS_FILE, prepareRunDir, writeRunJson } from './run-dir.ts';
import { checkpointTokenizer, runTokenizer, type RunTokenizer } from './tokenizer-setup.ts';
import { resolveModelConfig } from './model-config.ts';
import { TrainError } from './errors.ts';
import type { ProgressInfo } from './progress.ts';
import type { StoredTensor } from '../io/safetensors/index.ts';

export { resumeRunConfig } from './resume.ts';

export interface TrainOptions {
  /** The resolved run config (see loadRunConfig / resumeRunConfig). */
  config: RunConfig;
  /** Continue from this checkpoint folder, or the latest checkpoint of this run folder. */
  resume?: string;
  /** Start a new run in an output folder that already holds one (its checkpoints are deleted). */
  force?: boolean;
  /** When aborted, the loop finishes the current step, saves a checkpoint and returns. */
  signal?: AbortSignal;
  /** An objective in place of DeepSeek-V3's (CE + MTP + balance), e.g. distillation's. */
  objective?: TrainObjective;
  /** Informational messages (setup, checkpoints, evaluations). */
  log?: (line: string) => void;
  /** Called after every step with what a progress display shows. */
  progress?: (p: ProgressInfo) => void;
  onStep?: (m: StepMetrics) => void;
  onEval?: (m: EvalMetrics) => void;
}

export interface TrainResult {
  /** Steps completed (of config.steps). */
  step: number;
  /** Whether the run stopped early because the signal was aborted. */
  interrupted: boolean;
  /** The last checkpoint written. */
  checkpoint: string | null;
  runDir: string;
  /** Metrics of the last step this process ran. */
  last: StepMetrics | null;
}

interface Setup {
  cfg: RunConfig;
  runDir: string;
  tokenizer: RunTokenizer;
  encoder: CorpusEncoder;
  modelJson: JsonObject;
  modelConfig: ModelConfig;
  weights: MapWeights;
  model: CausalLM;
  params: Param[];
  optimizer: AdamW;
  loader: TrainLoader;
  loaderOptions: LoaderOptions;
  evalSet: Int32Array[];
  step: number;
  tokens: number;
  elapsed: number;
  metrics: MetricsLog;
  files: CorpusFile[];
}

const round = (ms: number) => Math.round(ms * 10) / 10;
const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

export class Trainer {
  readonly config: RunConfig;
  readonly runDir: string;
  readonly model: CausalLM;
  readonly weights: MapWeights;
  readonly modelConfig: ModelConfig;
  /** The HF config.json the checkpoints carry. */
  readonly modelJson: JsonObject;
  readonly tokenizer: Tokenizer;
  readonly params: readonly Param[];
  readonly optimizer: AdamW;
  readonly loader: TrainLoader;
  /** What the loader was built with: a second loader from `loader.state()` draws the very sequences still to come. */
  readonly loaderOptions: LoaderOptions;
  readonly tracker: LoadTracker;
  /** The held-out sequences evaluated every eval.interval steps (empty: no evaluation). */
  readonly evalSet: readonly Int32Array[];
  /** Optimizer steps completed. */
  step: number;
  /** Tokens trained on so far. */
  tokens: number;
  /** Seconds spent in steps so far (across resumes). */
  elapsed: number;
  lastCheckpoint: string | null = null;
  private readonly tokenizerFiles: RunTokenizer['files'];
  private readonly files: CorpusFile[];
  private readonly metrics: MetricsLog;
  private readonly log: (line: string) => void;
  private lastEval: EvalResult | null = null;
  private stepSecondsAvg = 0;

  private constructor(
    s: Setup,
    private readonly opts: TrainOptions,
  ) {
    this.config = s.cfg;
    this.runDir = s.runDir;
    this.model = s.model;
    this.weights = s.weights;
    this.modelConfig = s.modelConfig;
    this.modelJson = s.modelJson;
    this.tokenizer = s.tokenizer.tokenizer;
    this.tokenizerFiles = s.tokenizer.files;
    this.params = s.params;
    this.optimizer = s.optimizer;
    this.loader = s.loader;
    this.loaderOptions = s.loaderOptions;
    this.evalSet = s.evalSet;
    this.step = s.step;
    this.tokens = s.tokens;
    this.elapsed = s.elapsed;
    this.metrics = s.metrics;
    this.files = s.files;
    this.tracker = new LoadTracker(s.model);
    this.log = opts.log ?? (() => {});
  }

  /** Sets up a new run, or a resumed one when `opts.resume` is given. */
  static create(opts: TrainOptions): Trainer {
    const log = opts.log ?? (() => {});
    const cfg = opts.config;
    const resume = opts.resume === undefined ? null : resolveCheckpoint(opts.resume);
    const runDir = cfg.out;
    // Check what can be checked before touching the output folder, so a typo leaves no debris.
    const files = listCorpusFiles(cfg.data.train, 'data.train');
    const valFiles = cfg.data.validation.length > 0 ? listCorpusFiles(cfg.data.validation, 'data.validation') : [];
    if (!resume) parseConfig({ ...cfg.model, vocab_size: cfg.model.vocab_size ?? 1 }, `${cfg.source}: model`);
    // A resumed run writes into its own folder; any other folder must be free (or --force).
    if (!resume || runDir !== resume.runDir) prepareRunDir(runDir, opts.force === true);

    const tokenizer = resume ? checkpointTokenizer(resume.checkpoint) : runTokenizer(cfg.tokenizer, files, cfg.data, runDir, log);
    const encoder = corpusEncoder(tokenizer.tokenizer, cfg.data.eosToken);

    let modelJson: JsonObject;
    let saved: { state: TrainerStateJson; tensors: Map<string, StoredTensor> } | null = null;
    if (resume) {
      saved = readTrainerState(resume.checkpoint);
      const json = readJson(join(resume.checkpoint, 'config.json'), 'the checkpoint model config');
      if (!isObject(json)) throw new TrainError(`${resume.checkpoint}/config.json: not a JSON object`);
      modelJson = json;
    } else {
      modelJson = cfg.model;
    }
    const { json: completed, config: modelConfig } = resolveModelConfig(
      modelJson,
      tokenizer.tokenizer,
      encoder.eosId,
      resume ? join(resume.checkpoint, 'config.json') : `${cfg.source}: model`,
    );

    if (cfg.seqLen > modelConfig.maxPositionEmbeddings) {
      throw new TrainError(`seqLen ${cfg.seqLen} exceeds the model's max_position_embeddings (${modelConfig.maxPositionEmbeddings})`);
    }
    const weights = initWeights(modelConfig, cfg.seed, cfg.initStd ?? modelConfig.initializerRange);
    if (resume) restoreWeights(weights, resume.checkpoint, saved!.tensors);
    const model = buildModel(modelConfig, weights);
    const extra = opts.objective?.params ?? [];
    if (saved) restoreObjectiveParams(extra, saved.tensors, resume!.checkpoint);
    const params = [...trainableParams(weights), ...extra];
    const { beta1, beta2, eps, weightDecay, momentsDtype } = cfg.optimizer;
    const optimizer = new AdamW(params, { beta1, beta2, eps, weightDecay, moments: momentsDtype });
    if (saved) restoreOptimizer(optimizer, saved.state.params, saved.tensors);

    const documents = { textDocuments: cfg.data.textDocuments, jsonlField: cfg.data.jsonlField };
    const valFraction = cfg.data.validation.length > 0 ? 0 : cfg.data.valFraction;
    const loaderState: LoaderState | undefined = saved ? restoreLoaderState(saved.state.loader, saved.tensors) : undefined;
    const loaderOptions: LoaderOptions = {
      files,
      documents,
      encoder,
      seqLen: cfg.seqLen,
      valFraction,
      shuffleBuffer: cfg.data.shuffleBuffer,
      seed: cfg.seed,
    };
    const loader = new TrainLoader(loaderOptions, loaderState);

    let evalSet: Int32Array[] = [];
    if (cfg.eval.interval > 0) {
      const count = cfg.eval.batches * cfg.batchSize;
      if (valFiles.length > 0) {
        evalSet = evalSequences(
          { files: valFiles, documents, encoder, seqLen: cfg.seqLen, valFraction: 0, seed: cfg.seed, take: 'all' },
          count,
        );
      } else if (valFraction > 0) {
        evalSet = evalSequences({ files, documents, encoder, seqLen: cfg.seqLen, valFraction, seed: cfg.seed, take: 'validation' }, count);
      }
      if (evalSet.length === 0)
        log(`no held-out sequence of ${cfg.seqLen + 1} tokens (set data.validation or raise data.valFraction): evaluation is off`);
      else if (evalSet.length < count) log(`held-out split: ${evalSet.length} sequences (asked for ${count})`);
    }

    if (saved && JSON.stringify(saved.state.loader.corpus) !== JSON.stringify(corpusFingerprint(files))) {
      log(
        'warning: the training corpus changed since this checkpoint (files or sizes differ); the data order will not match an uninterrupted run',
      );
    }
    const step = saved?.state.step ?? 0;
    if (saved && step < cfg.steps) {
      const savedRun = { ...saved.state.run };
      for (const k of Object.keys(opts.objective?.runJson ?? {})) delete savedRun[k];
      const warning = scheduleChangeWarning(savedRun, cfg, step, runDir);
      if (warning) log(warning);
    }
    const metrics = new MetricsLog(join(runDir, METRICS_FILE), resume ? step : undefined);
    const setup: Setup = {
      cfg,
      runDir,
      tokenizer,
      encoder,
      modelJson: completed,
      modelConfig,
      weights,
      model,
      params,
      optimizer,
      loader,
      loaderOptions,
      evalSet,
      step,
      tokens: saved?.state.tokens ?? 0,
      elapsed: saved?.state.elapsedSeconds ?? 0,
      metrics,
      files,
    };
    const trainer = new Trainer(setup, opts);
    writeRunJson(runDir, trainer.runJson());
    const n = params.reduce((a, p) => a + p.tensor.size, 0);
    log(
      `${resume ? `resuming ${resume.checkpoint} at step ${step}` : 'new run'}: ${modelConfig.modelType}, ${(n / 1e6).toFixed(2)}M trainable parameters, ` +
        `${files.length} corpus file(s), vocab ${modelConfig.vocabSize}, ${cfg.batchSize}×${cfg.gradAccum}×${cfg.seqLen} tokens per step → ${runDir}`,
    );
    return trainer;
  }

  /** The run config as saved (run.json, checkpoints): the config, plus what a custom objective adds. */
  runJson(): JsonObject {
    return { ...runConfigJson(this.config), ...(this.opts.objective?.runJson ?? {}) };
  }

  /** Micro-batches in the next optimizer step (fewer while a batch ramp is on). */
  get accumNow(): number {
    return accumAt(this.config.batchRamp, this.config.gradAccum, this.step);
  }

  /** Tokens in the next optimizer step. */
  get tokensPerStep(): number {
    return this.config.batchSize * this.accumNow * this.config.seqLen;
  }

  /** Runs one optimizer step and returns its metrics (also appended to metrics.jsonl). */
  trainStep(): StepMetrics {
    const cfg = this.config;
    const t0 = performance.now();
    const lr = learningRate(cfg.schedule, cfg.optimizer.lr, this.step, cfg.steps);
    const accum = this.accumNow;
    const tokensThisStep = this.tokensPerStep;
    const weight = Tensor.from([1 / accum], [], 'f32');
    const objective = {
      mtpWeight: stagedValue(cfg.mtpWeight, this.step, cfg.steps),
      balanceAlpha: cfg.balanceAlpha,
      balanceReduction: cfg.balanceReduction,
    };
    let loss = 0;
    let ce = 0;
    let balance = 0;
    let mtp: number[] = [];
    const parts: Record<string, number> = {};
    let dataMs = 0;
    for (let micro = 0; micro < accum; micro++) {
      const td = performance.now();
      const ids = this.loader.nextBatch(cfg.batchSize);
      dataMs += performance.now() - td;
      const r = withPrecision(cfg.precision, () => {
        const out = this.opts.objective ? this.opts.objective.loss(this.model, ids, objective) : lmObjective(this.model, ids, objective);
        T.backward(out.total, weight);
        return out;
      });
      this.tracker.record(r.routings);
      loss += r.total.item() / accum;
      ce += r.ce / accum;
      balance += r.balance / accum;
      for (const [k, v] of Object.entries(r.parts ?? {})) parts[k] = (parts[k] ?? 0) + v / accum;
      if (micro === 0) mtp = r.mtp.map((v) => v / accum);
      else r.mtp.forEach((v, k) => (mtp[k]! += v / accum));
    }
    const tOpt = performance.now();
    const norm = gradNorm(this.params);
    const skipped = !Number.isFinite(norm);
    if (!skipped) this.optimizer.step(lr, clipScale(norm, cfg.optimizer.gradClip));
    this.optimizer.zeroGrad();
    const load = this.tracker.stats();
    if (cfg.biasUpdate.enabled && !skipped) this.tracker.updateBiases(stagedValue(cfg.biasUpdate.gamma, this.step, cfg.steps));
    else this.tracker.reset();

    this.step++;
    this.tokens += tokensThisStep;
    const tEnd = performance.now();
    const seconds = (tEnd - t0) / 1000;
    const ms = { data: round(dataMs), compute: round(tOpt - t0 - dataMs), optimizer: round(tEnd - tOpt) };
    this.elapsed += seconds;
    this.stepSecondsAvg = this.stepSecondsAvg === 0 ? seconds : 0.9 * this.stepSecondsAvg + 0.1 * seconds;
    const m: StepMetrics = {
      type: 'train',
      step: this.step,
      loss,
      ce,
      mtp,
      balance,
      lr,
      gradNorm: norm,
      tokens: this.tokens,
      tokensPerSec: tokensThisStep / seconds,
      elapsed: this.elapsed,
      load,
      ms,
    };
    if (Object.keys(parts).length > 0) m.parts = parts;
    if (skipped) {
      m.skipped = true;
      this.log(`step ${this.step}: gradient norm is ${norm}; update skipped`);
    }
    this.metrics.write(m);
    return m;
  }

  /** Evaluates on the held-out set (also appended to metrics.jsonl). */
  evaluate(): EvalMetrics | null {
    if (this.evalSet.length === 0) return null;
    const r = evaluate(this.model, this.evalSet, this.config.batchSize);
    this.lastEval = r;
    const m: EvalMetrics = { type: 'eval', step: this.step, loss: r.loss, ppl: r.ppl, tokens: r.tokens };
    this.metrics.write(m);
    return m;
  }

  /** Writes a checkpoint of the current step; returns its folder. */
  save(): string {
    const tensors = new Map<string, StoredTensor>();
    optimizerTensors(this.optimizer, tensors);
    for (const p of this.opts.objective?.params ?? [])
      tensors.set(`objective.${p.name}`, { dtype: 'F32', shape: p.tensor.shape, data: p.tensor.data as Float32Array });
    const loader = this.loader.state();
    loaderTensors(loader, this.config.seqLen, tensors);
    const state: TrainerStateJson = {
      format: 'dsts-trainer-state',
      version: 1,
      step: this.step,
      tokens: this.tokens,
      elapsedSeconds: this.elapsed,
      run: this.runJson(),
      loader: { ...loaderJson(loader), corpus: corpusFingerprint(this.files) },
      params: this.params.map((p) => p.name),
      modelDtype: this.config.checkpoint.dtype,
    };
    const dir = saveCheckpoint(
      this.runDir,
      {
        modelConfig: this.modelJson,
        weights: this.weights,
        dtype: this.config.checkpoint.dtype,
        tokenizerFiles: this.tokenizerFiles,
        state,
        stateTensors: tensors,
      },
      this.config.checkpoint.keep,
    );
    this.lastCheckpoint = dir;
    return dir;
  }

  /** Trains until config.steps (or the signal), evaluating and checkpointing on the way. */
  async run(): Promise<TrainResult> {
    const cfg = this.config;
    const signal = this.opts.signal;
    let last: StepMetrics | null = null;
    let savedAt = -1;
    let interrupted = false;
    const startStep = this.step;
    if (this.step >= cfg.steps) this.log(`nothing to do: the run is at step ${this.step} of ${cfg.steps} (raise --steps to continue it)`);
    try {
      while (this.step < cfg.steps) {
        if (signal?.aborted) {
          interrupted = true;
          break;
        }
        last = this.trainStep();
        this.opts.onStep?.(last);
        if (cfg.eval.interval > 0 && (this.step % cfg.eval.interval === 0 || this.step === cfg.steps)) {
          const e = this.evaluate();
          if (e) {
            this.opts.onEval?.(e);
            this.log(`step ${e.step}: eval loss ${e.loss.toFixed(4)}, perplexity ${e.ppl.toFixed(2)} (${e.tokens} tokens)`);
          }
        }
        this.opts.progress?.({
          // Smoothed over recent steps: a per-step figure jitters too much to read.
          step: this.step,
          total: cfg.steps,
          loss: last.loss,
          lr: last.lr,
          tokensPerSec: this.tokensPerStep / this.stepSecondsAvg,
          etaSeconds: (cfg.steps - this.step) * this.stepSecondsAvg,
          evalLoss: this.lastEval?.loss,
        });
        if (cfg.checkpoint.interval > 0 && this.step % cfg.checkpoint.interval === 0 && this.step < cfg.steps) {
          this.log(`checkpoint → ${this.save()}`);
          savedAt = this.step;
        }
        // Let signal handlers (SIGINT) run between steps.
        await yieldToEventLoop();
      }
      if (signal?.aborted && this.step < cfg.steps) interrupted = true;
      // Save what this process trained (an interrupt during setup has nothing new to save).
      if (this.step > startStep && savedAt !== this.step) this.log(`${interrupted ? 'interrupted: ' : ''}checkpoint → ${this.save()}`);
    } finally {
      this.close();
    }
    return { step: this.step, interrupted, checkpoint: this.lastCheckpoint, runDir: this.runDir, last };
  }

  close(): void {
    this.metrics.close();
    this.loader.close();
  }
}

/** Copies a custom objective's saved tensors (`objective.<name>` in the trainer state) back into its parameters. */
function restoreObjectiveParams(params: readonly Param[], tensors: Map<string, StoredTensor>, dir: string): void {
  for (const p of params) {
    const t = tensors.get(`objective.${p.name}`);
    if (!t || t.dtype !== 'F32' || t.data.length !== p.tensor.size)
      throw new TrainError(
        `${dir}: the trainer state lacks '${p.name}' [${p.tensor.shape}] (was the checkpoint made with another objective?)`,
      );
    (p.tensor.data as Float32Array).set(t.data);
  }
}

/** Sets up and runs a training run (new or resumed). */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  return Trainer.create(opts).run();
}
