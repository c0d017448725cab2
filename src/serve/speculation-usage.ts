/**
 * Speculative decoding in a response's `usage`, under OpenAI's names for draft tokens (its
 * Predicted Outputs report them the same way): `accepted_prediction_tokens` — draft tokens the model
 * verified and kept — and `rejected_prediction_tokens` — drafted but replaced, which cost compute
 * without becoming output. Absent when the server does not speculate.
 */
import type { Generation } from './engine/generation.ts';

export interface PredictionTokens {
  accepted_prediction_tokens: number;
  rejected_prediction_tokens: number;
}

/** The draft-token counts of a generation ({} when it was not decoded speculatively). */
export function predictionTokens(gen: Generation): PredictionTokens | Record<string, never> {
  if (!gen.speculation) return {};
  const { drafted, accepted } = gen.speculation;
  return { accepted_prediction_tokens: accepted, rejected_prediction_tokens: drafted - accepted };
}
