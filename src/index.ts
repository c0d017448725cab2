/**
 * deepseek-ts as a library: `import { loadModel, Generator, loadTokenizer, train, startServer } from
 * 'deepseek-ts'`. One entry for what a user builds on — load a checkpoint, tokenize, generate, train,
 * post-train (SFT, GRPO), serve — with the types they take and return. Deeper modules (kernels, individual ops) stay
 * reachable through their folders' index files but are not part of this surface.
 */

// Models: configs, checkpoints, the model itself, parameter accounting.
export { loadConfig, parseConfig, MODEL_TYPES, type ModelConfig } from './io/config.ts';
export { loadModel, MissingWeightError, type LoadedModel, type LoadOptions } from './model/load.ts';
export { buildModel, declareModel } from './model/registry.ts';
export { WeightMismatchError } from './model/check.ts';
export { initWeights } from './model/init.ts';
export { countParams, type ParamCounts, type ParamBreakdown } from './model/params.ts';
export type { ParamDecl } from './model/declare.ts';
export type { CausalLM, ForwardOptions, ForwardResult, LayerRouting } from './model/causal-lm.ts';
export { MapWeights, type Weights } from './model/weights.ts';
export { UserFacingError } from './io/errors.ts';

// Tensors (the values models take and return).
export { Tensor, noGrad, floatData, Rng } from './tensor/index.ts';

// Tokenizer.
export { Tokenizer, loadTokenizer, TokenizerError, trainBpe, type ChatMessage } from './tokenizer/index.ts';

// Generation.
export {
  Generator,
  ChatSession,
  Sampler,
  loadForGeneration,
  type GenerateOptions,
  type GenerationResult,
  type SamplingParams,
  type GenerationSetup,
  SpeculativeUnavailableError,
  SpeculationCounts,
  type SpeculativeOptions,
} from './generate/index.ts';

// Training.
export {
  train,
  Trainer,
  loadRunConfig,
  parseRunConfig,
  resumeRunConfig,
  TrainError,
  type RunConfig,
  type TrainOptions,
  type TrainResult,
} from './train/index.ts';

// Post-training (DeepSeek-R1): SFT, GRPO, rewards, rejection sampling; knowledge distillation.
export {
  sft,
  distill,
  loadDistillConfig,
  parseDistillConfig,
  softLabelLoss,
  topKLogprobs,
  TeacherCache,
  type DistillConfig,
  type DistillOptions,
  type Divergence,
  type SoftLabelOptions,
  type TeacherTargets,
  grpo,
  rejectionSample,
  parseSftConfig,
  parseGrpoConfig,
  parseSampleConfig,
  grpoLoss,
  groupAdvantages,
  PosttrainError,
  type SftConfig,
  type GrpoConfig,
  type SampleConfig,
  type Reward,
  type UserRewardFn,
} from './posttrain/index.ts';

// Serving.
export {
  startServer,
  loadServedModel,
  loadServedModels,
  type ServeOptions,
  type RunningServer,
  type ServedModelSpec,
  // Search and files in chat (docs/serving.md, "Search and files").
  openSearchBackend,
  LocalIndex,
  SearxngBackend,
  runSearch,
  searchPrompt,
  filePrompt,
  type SearchBackend,
  type SearchResult,
} from './serve/index.ts';

// Planning a run on a cluster (docs/scale.md) and exporting it to vLLM, SGLang and Megatron-LM.
export {
  makePlan,
  planTable,
  planMarkdown,
  planJson,
  flopsPerToken,
  modelShape,
  memoryPlan,
  allToAll,
  simulate,
  scheduleSvg,
  gpuTable,
  GPUS,
  exportFiles,
  writeExport,
  servingLayout,
  builtinModel,
  PlanError,
  type Plan,
  type PlanInput,
  type Layout,
  type Gpu,
  type Simulation,
  type OpCosts,
  type ExportInput,
} from './plan/index.ts';
