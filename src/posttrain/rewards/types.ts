/** What a reward function sees and returns. */

/** A user reward function: (prompt, completion, example) → a number, or null for "no opinion". */
export type UserRewardFn = (prompt: string, completion: string, example: Record<string, unknown>) => number | null | Promise<number | null>;

export interface RewardContext {
  /** The prompt as the model saw it (rendered). */
  prompt: string;
  /** The generated text. */
  completion: string;
  /**
   * The completion with the reasoning opening its prompt already wrote (an R1 template's trailing
   * `<think>\n`) put back in front, so format checks see the whole answer layout.
   */
  fullCompletion: string;
  /** The dataset line the prompt came from. */
  example: Record<string, unknown>;
}

/** One reward function of a run, with its weight in the total. */
export interface Reward {
  /** Name in the logs (`reward/<name>`). */
  name: string;
  weight: number;
  /** The module a user reward came from (for messages). */
  source?: string;
  score(ctx: RewardContext): number | null | Promise<number | null>;
}

/**
 * The context for scoring a completion of `prompt`: when the prompt ends by opening the reasoning
 * (`<think>` and whatever whitespace followed it, as R1's template does), that opening is put back
 * in front of the completion for `fullCompletion`.
 */
export function rewardContext(prompt: string, completion: string, example: Record<string, unknown>): RewardContext {
  const open = /<think>\s*$/.exec(prompt);
  return { prompt, completion, fullCompletion: open ? open[0] + completion : completion, example };
}
