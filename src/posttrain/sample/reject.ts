/**
 * Rejection sampling (DeepSeek-R1 §2.3.3): `n` completions of every prompt, scored by the run's
 * reward functions; those whose weighted reward reaches `minReward` are accepted, and the best of
 * each prompt (or all) are written as SFT data — `{"messages": [...prompt, {"role": "assistant",
 * "content": …}]}` for chat prompts (the reasoning the prompt opened put back, so `dsts sft` trains
 * it after the same opening), `{"prompt", "completion"}` text for the r1-zero and plain templates
 * (train those with "template": "plain"). Each line also carries its reward and source line.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { readJsonl } from '../data/jsonl.ts';
import { promptMessages } from '../data/prompts.ts';
import { loadRewards } from '../rewards/load.ts';
import { scoreCompletions } from '../rewards/score.ts';
import { rewardContext } from '../rewards/types.ts';
import type { SampleConfig } from './config.ts';
import { exampleSampler } from './sample-examples.ts';

export interface SampleResult {
  prompts: number;
  completions: number;
  accepted: number;
  /** Prompts with at least one accepted completion. */
  promptsAccepted: number;
  written: number;
  /** Mean weighted reward over all completions. */
  meanReward: number;
}

export async function rejectionSample(cfg: SampleConfig, log: (line: string) => void = () => {}): Promise<SampleResult> {
  const examples = readJsonl(cfg.data.train);
  const rewards = await loadRewards(cfg.rewards);
  const batches = exampleSampler(cfg.model, { ...cfg, system: cfg.system ?? undefined });
  const out = openSync(cfg.out, 'w');
  const res: SampleResult = { prompts: 0, completions: 0, accepted: 0, promptsAccepted: 0, written: 0, meanReward: 0 };
  let rewardSum = 0;
  try {
    for (const roll of batches(examples)) {
      const { examples: batch, prompts } = roll;
      for (const [i, group] of roll.groups.entries()) {
        const ex = batch[i]!;
        const contexts = group.map((c) => ({ ...rewardContext(prompts[i]!.text, c.text, ex.data), line: ex.line }));
        const scored = await scoreCompletions(rewards, contexts);
        res.prompts++;
        res.completions += group.length;
        scored.total.forEach((v) => (rewardSum += v));
        const accepted = group.map((_, k) => k).filter((k) => scored.total[k]! >= cfg.minReward);
        res.accepted += accepted.length;
        if (accepted.length > 0) res.promptsAccepted++;
        // 'best': the highest reward; 'longest': the longest accepted reasoning (R1's cold start wants long CoT).
        const better = (k: number, b: number) =>
          cfg.keep === 'longest' ? group[k]!.text.length > group[b]!.text.length : scored.total[k]! > scored.total[b]!;
        const kept = cfg.keep === 'all' ? accepted : accepted.length > 0 ? [accepted.reduce((b, k) => (better(k, b) ? k : b))] : [];
        for (const k of kept) {
          const ctx = contexts[k]!;
          const per = Object.fromEntries(
            rewards.map((r, f) => [r.name, Number.isNaN(scored.perFunction[f]![k]!) ? null : scored.perFunction[f]![k]!]),
          );
          const line =
            cfg.promptTemplate === 'chat'
              ? { messages: [...promptMessages(ex, cfg.system ?? undefined), { role: 'assistant', content: ctx.fullCompletion }] }
              : { prompt: prompts[i]!.text, completion: ctx.completion };
          writeSync(
            out,
            JSON.stringify({ ...line, reward: scored.total[k], rewards: per, source: { file: ex.file, line: ex.line + 1 } }) + '\n',
          );
          res.written++;
        }
      }
      log(
        `${res.prompts}/${examples.length} prompts: ${res.accepted} of ${res.completions} completions accepted (${Math.round(roll.tokens / roll.seconds)} tok/s)`,
      );
    }
  } finally {
    closeSync(out);
  }
  res.meanReward = rewardSum / Math.max(1, res.completions);
  return res;
}
