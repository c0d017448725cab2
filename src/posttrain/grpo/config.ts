/**
 * The `dsts grpo` run config: the shared keys (run/config.ts), the dataset and rewards, and a `grpo`
 * section with TRL GRPOConfig's own names, meanings and defaults:
 *
 *   "data": {"train": "prompts.jsonl"}      JSONL: "prompt" (text or messages) or "messages", plus
 *                                           whatever the rewards read (e.g. "answer")
 *   "promptTemplate": "chat" | "r1-zero" | "plain",  "system": "…" (chat only)
 *   "rewards": ["accuracy", {"type": "format", "weight": 0.5}, {"module": "./r.ts"}]
 *   "batchSize": 4            prompts per step (× num_generations completions)
 *   "microBatchSize": 0       completions per forward/backward (0: all of the step's at once)
 *   "grpo": {
 *     "num_generations": 8, "temperature": 1.0, "top_p": 1.0, "top_k": 0,
 *     "max_prompt_length": 512, "max_completion_length": 256,
 *     "beta": 0.0,                    KL weight to the frozen reference (the start model); 0: no reference
 *     "epsilon": 0.2, "epsilon_high": epsilon,
 *     "num_iterations": 1,            μ: optimizer updates per batch of rollouts
 *     "loss_type": "dapo",            grpo | bnpo | dr_grpo | dapo
 *     "scale_rewards": "group",       group | batch | none
 *     "mask_truncated_completions": false   leave completions cut at max_completion_length out of the loss
 *   }
 */
import { resolve } from 'node:path';
import { isObject, ObjectReader, type JsonObject } from '../../train/config/reader.ts';
import { PosttrainError } from '../errors.ts';
import { readCommon, type CommonConfig } from '../run/config.ts';
import { PROMPT_TEMPLATES, type PromptTemplate } from '../data/prompts.ts';
import { readRewardSpecs, type RewardSpec } from '../rewards/load.ts';
import { LOSS_TYPES, SCALE_REWARDS, type LossType, type ScaleRewards } from './objective.ts';

export interface GrpoOptions {
  numGenerations: number;
  temperature: number;
  topP: number;
  topK: number;
  maxPromptLength: number;
  maxCompletionLength: number;
  beta: number;
  epsilon: number;
  epsilonHigh: number;
  numIterations: number;
  lossType: LossType;
  scaleRewards: ScaleRewards;
  /** Leave completions cut by max_completion_length out of the loss (TRL's mask_truncated_completions). */
  maskTruncatedCompletions: boolean;
}

export interface GrpoConfig extends CommonConfig {
  kind: 'grpo';
  data: { train: string[] };
  promptTemplate: PromptTemplate;
  system: string | null;
  rewards: RewardSpec[];
  batchSize: number;
  microBatchSize: number;
  grpo: GrpoOptions;
}

/** The `grpo` section (TRL's key names). */
export function readGrpoOptions(r: ObjectReader): GrpoOptions {
  const g = r.object('grpo');
  const epsilon = g.number('epsilon', 0.2, { min: 0, max: 1 });
  const o: GrpoOptions = {
    numGenerations: g.int('num_generations', 8, 2),
    temperature: g.number('temperature', 1, { above: 0 }),
    topP: g.number('top_p', 1, { above: 0, max: 1 }),
    topK: g.int('top_k', 0),
    maxPromptLength: g.int('max_prompt_length', 512, 1),
    maxCompletionLength: g.int('max_completion_length', 256, 1),
    beta: g.number('beta', 0, { min: 0 }),
    epsilon,
    epsilonHigh: g.number('epsilon_high', epsilon, { min: 0 }),
    numIterations: g.int('num_iterations', 1, 1),
    lossType: g.oneOf('loss_type', LOSS_TYPES, 'dapo'),
    scaleRewards: g.oneOf('scale_rewards', SCALE_REWARDS, 'group'),
    maskTruncatedCompletions: g.bool('mask_truncated_completions', false),
  };
  g.done();
  return o;
}

export function parseGrpoConfig(json: JsonObject, source: string, baseDir: string): GrpoConfig {
  if (!isObject(json)) throw new PosttrainError(`${source}: a run config must be a JSON object`);
  const r: ObjectReader = new ObjectReader(json, source);
  const common = readCommon(r, baseDir, { lr: 1e-6, steps: 100, checkpointInterval: 0 });
  const d = r.object('data');
  const train = d.stringList('train').map((p) => resolve(baseDir, p));
  if (train.length === 0) d.fail('train', 'missing: the JSONL file(s) of prompts');
  d.done();
  const cfg: GrpoConfig = {
    ...common,
    kind: 'grpo',
    data: { train },
    promptTemplate: r.oneOf('promptTemplate', PROMPT_TEMPLATES, 'chat'),
    system: r.string('system') ?? null,
    rewards: readRewardSpecs(r, baseDir),
    batchSize: r.int('batchSize', 4, 1),
    microBatchSize: r.int('microBatchSize', 0),
    grpo: readGrpoOptions(r),
  };
  r.done();
  return cfg;
}

/** The resolved config as JSON (run.json, trainer state); parses back to the same. */
export function grpoConfigJson(cfg: GrpoConfig): JsonObject {
  const json = structuredClone(cfg) as unknown as JsonObject;
  // Back to the file's shapes: reward specs and TRL's names.
  json.rewards = cfg.rewards.map(({ type, ...rest }) => (type === 'module' ? rest : { type, ...rest }));
  const g = cfg.grpo;
  json.grpo = {
    num_generations: g.numGenerations,
    temperature: g.temperature,
    top_p: g.topP,
    top_k: g.topK,
    max_prompt_length: g.maxPromptLength,
    max_completion_length: g.maxCompletionLength,
    beta: g.beta,
    epsilon: g.epsilon,
    epsilon_high: g.epsilonHigh,
    num_iterations: g.numIterations,
    loss_type: g.lossType,
    scale_rewards: g.scaleRewards,
    mask_truncated_completions: g.maskTruncatedCompletions,
  };
  return json;
}
