/** The post-training layer's public surface: SFT, GRPO (its objective too), rewards, rejection sampling and distillation. */
export { sft, type SftOptions, type SftResult } from './sft/trainer.ts';
export { parseSftConfig, type SftConfig } from './sft/config.ts';
export { renderSft, type SftSequence, type SftTemplate } from './sft/render.ts';
export { grpo, type GrpoRunOptions, type GrpoResult, type GrpoMetrics } from './grpo/trainer.ts';
export { parseGrpoConfig, type GrpoConfig, type GrpoOptions } from './grpo/config.ts';
export {
  groupAdvantages,
  grpoLoss,
  k3Kl,
  LOSS_TYPES,
  SCALE_REWARDS,
  type LossType,
  type ScaleRewards,
  type GrpoLossInput,
  type GrpoLoss,
} from './grpo/objective.ts';
export { completionLogps, type CompletionBatch, type CompletionLogps } from './completion-logps.ts';
export { tokenLogProbs } from './logprobs.ts';
export { rollout, type Completion, type RolloutOptions } from './rollout.ts';
export { accuracyReward, formatReward } from './rewards/builtin.ts';
export { extractAnswer, answersMatch, parseNumber } from './rewards/answer.ts';
export { loadRewards, readRewardSpecs, type RewardSpec } from './rewards/load.ts';
export { scoreCompletions, type ScoredBatch } from './rewards/score.ts';
export { rewardContext, type Reward, type RewardContext, type UserRewardFn } from './rewards/types.ts';
export { rejectionSample, type SampleResult } from './sample/reject.ts';
export { parseSampleConfig, type SampleConfig } from './sample/config.ts';
export { R1_ZERO_TEMPLATE, PROMPT_TEMPLATES, type PromptTemplate } from './data/prompts.ts';
export { distill, sameVocabulary, type DistillOptions } from './distill/trainer.ts';
export { parseDistillConfig, loadDistillConfig, resumeDistillConfig, type DistillConfig, type DistillSection } from './distill/config.ts';
export { softLabelLoss, type Divergence, type SoftLabelOptions, type TeacherTargets } from './distill/losses.ts';
export { HiddenMatcher, hiddenMse, hiddenCosine, type HiddenConfig, type HiddenLoss } from './distill/hidden.ts';
export { TeacherCache, topKLogprobs, fillTeacherCache, type TopK } from './distill/teacher-cache.ts';
export { DistillObjective } from './distill/objective.ts';
export { PosttrainError } from './errors.ts';
