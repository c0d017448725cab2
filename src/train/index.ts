/**
 * The training layer's public surface: the pre-training loop (Trainer / train), its run config,
 * optimizer and schedules, data pipeline, checkpoints, metrics, progress display and plots, plus
 * the DeepSeek-V3 objective, load balancing and FP8 mode the loop runs.
 */
export { Trainer, train, resumeRunConfig, type TrainOptions, type TrainResult } from './trainer.ts';
export {
  loadRunConfig,
  parseRunConfig,
  runConfigJson,
  type RunConfig,
  type DataConfig,
  type TokenizerSource,
  type OptimizerConfig,
  type TextDocuments,
} from './config/run-config.ts';
export { TrainError } from './errors.ts';
export { AdamW, ADAMW_DEFAULTS, type AdamWOptions, type AdamWState } from './optim/adamw.ts';
export { gradNorm, clipScale } from './optim/clip.ts';
export { trainableParams, decays, type Param } from './optim/params.ts';
export { learningRate, type ScheduleConfig, type DecayShape } from './schedule.ts';
export { listCorpusFiles, type CorpusFile } from './data/files.ts';
export { TrainLoader, evalSequences, type LoaderOptions, type LoaderState } from './data/loader.ts';
export { corpusEncoder, findEos } from './data/encoder.ts';
export { DocumentSplit } from './data/split.ts';
export { evaluate, type EvalResult } from './evaluate.ts';
export {
  saveCheckpoint,
  listCheckpoints,
  resolveCheckpoint,
  readTrainerState,
  hfConfigJson,
  modelTensors,
  checkpointName,
  type TrainerStateJson,
  type CheckpointData,
} from './checkpoint.ts';
export { MetricsLog, readMetrics, type StepMetrics, type EvalMetrics, type MetricsRecord } from './metrics.ts';
export { ProgressReporter, formatDuration, type ProgressInfo, type ProgressSink } from './progress.ts';
export { plotMetrics, metricsPanels } from './plot/metrics-plot.ts';
export { renderSvg, type Panel, type Series } from './plot/svg.ts';
export { lmObjective, type ObjectiveConfig, type ObjectiveResult } from './objective.ts';
export { LoadTracker, sequenceBalanceLoss, type LoadStats } from './balance.ts';
export { withPrecision, PRECISIONS, type Precision } from './precision.ts';
