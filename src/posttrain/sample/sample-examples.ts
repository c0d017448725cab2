/**
 * Sampling a dataset batch by batch, as rejection sampling (`dsts sample`) and held-out evaluation
 * (`dsts eval`) both do: the model folder is opened once, each batch of examples is rendered with the
 * prompt template and decoded together, `n` completions per example, with seeds derived from
 * (seed, the batch's first line) so the same seed draws the same completions in either command.
 */
import { loadModel } from '../../model/load.ts';
import { loadTokenizer } from '../../tokenizer/index.ts';
import type { Example } from '../data/jsonl.ts';
import { renderPrompt, type PromptTemplate, type RenderedPrompt } from '../data/prompts.ts';
import { mixSeed, rollout, stopIds, type Completion } from '../rollout.ts';

export interface ExampleSampling {
  promptTemplate: PromptTemplate;
  system?: string;
  /** Completions per example. */
  n: number;
  temperature: number;
  topP: number;
  topK: number;
  maxTokens: number;
  /** Examples decoded together. */
  batchSize: number;
  seed: number;
}

export interface SampledBatch {
  examples: Example[];
  /** Each example's rendered prompt. */
  prompts: RenderedPrompt[];
  /** `n` completions per example. */
  groups: Completion[][];
  tokens: number;
  seconds: number;
}

/**
 * Opens the model now (so a bad folder fails before anything is written) and returns the sampler:
 * the completions of `examples`, one batch at a time.
 */
export function exampleSampler(modelDir: string, o: ExampleSampling): (examples: readonly Example[]) => Generator<SampledBatch> {
  const { model, config } = loadModel(modelDir);
  const tok = loadTokenizer(modelDir);
  const stops = stopIds(tok, config.eosTokenId, model.vocabSize);
  return function* (examples) {
    for (let start = 0; start < examples.length; start += o.batchSize) {
      const batch = examples.slice(start, start + o.batchSize);
      const prompts = batch.map((ex) => renderPrompt(ex, tok, o.promptTemplate, o.system));
      const roll = rollout(
        model,
        tok,
        prompts.map((p) => p.ids),
        {
          n: o.n,
          sampling: { temperature: o.temperature, topP: o.topP, topK: o.topK },
          maxTokens: o.maxTokens,
          stopTokenIds: stops,
          seed: mixSeed(o.seed, start),
          maxContext: config.maxPositionEmbeddings,
        },
      );
      yield { examples: batch, prompts, groups: roll.groups, tokens: roll.tokens, seconds: roll.seconds };
    }
  };
}
