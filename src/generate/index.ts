/** The generation layer: samplers, stop rules, streaming detokenization, batched decoding, chat, `<think>` splitting. */
export * as processors from './logits-processors.ts';
export { Sampler, processLogits, sampleCategorical, validateSampling, type SamplingParams, type TokenHistory } from './sampler.ts';
export { StopStringMatcher, type StopPush } from './stop-strings.ts';
export { IncrementalDetokenizer, type TokenDecoder, type DetokenizerOptions } from './detokenizer.ts';
export {
  ThinkingSplitter,
  splitThinking,
  promptOpensThinking,
  forceThinkingOpen,
  type ThinkingDelta,
  type ThinkingOptions,
} from './thinking.ts';
export { Sequence, DEFAULT_MAX_TOKENS, type FinishReason, type GenerationRequest, type TokenEvent } from './sequence.ts';
export { BatchDecoder, type DecodingModel, type BatchDecoderOptions, type CacheReuse, type StepResult } from './batch-decoder.ts';
export { chooseToken, type TokenConstraint } from './constraint.ts';
export { logprobOf, type TokenLogprob } from './token-logprob.ts';
export {
  Generator,
  eosTokenIds,
  type GenerateOptions,
  type GenerationEvent,
  type GenerationResult,
  type GeneratorOptions,
  type TextTokenizer,
} from './generate.ts';
export { ChatSession, type ChatTurn, type ChatTokenizer, type ChatSessionOptions, type ChatDelta } from './chat-session.ts';
export { loadForGeneration, chatTemplateText, type GenerationSetup } from './load.ts';
export {
  R1_SAMPLING,
  generationDefaults,
  isReasoningTemplate,
  mergeSampling,
  readGenerationConfig,
  samplingFromGenerationConfig,
  type GenerationDefaults,
} from './defaults.ts';
export { FALLBACK_CHAT_TEMPLATE, fallbackTemplateFor } from './chat-layout.ts';
export { SpeculativeUnavailableError, MAX_DRAFT_TOKENS, type SpeculativeOptions, type MtpModel } from './speculative/mtp-model.ts';
export { SpeculationCounts } from './speculative/stats.ts';
export { Speculator } from './speculative/speculator.ts';
export { verifyDraft, residual, type Verdict } from './speculative/acceptance.ts';
