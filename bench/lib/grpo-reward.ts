/**
 * The benchmark's reward: the share of distinct characters in a completion — cheap, deterministic,
 * and different across a group's completions, so advantages are not all zero. The TRL peer
 * (bench/peer/trl_grpo_peer.py) computes the same.
 */
export default function distinctChars(_prompt: string, completion: string): number {
  const chars = [...completion];
  return chars.length === 0 ? 0 : new Set(chars).size / chars.length;
}
