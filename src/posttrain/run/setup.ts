/**
 * Opening a post-training run: its output folder (a new run needs a free one, as in pre-training),
 * the checkpoint it resumes from, and the policy — the start model, or the checkpoint's weights.
 */
import { join } from 'node:path';
import { prepareRunDir } from '../../train/run-dir.ts';
import { setPath } from '../../train/config/run-config.ts';
import type { JsonObject } from '../../train/config/reader.ts';
import { readResume, type Resumed } from './checkpoint.ts';
import { loadPolicy, type Policy } from './policy.ts';
import type { CommonConfig } from './config.ts';

export interface OpenedRun {
  policy: Policy;
  resumed: Resumed | null;
}

export function openRun(cfg: CommonConfig, kind: 'sft' | 'grpo', opts: { resume?: string; force?: boolean }): OpenedRun {
  const resumed = opts.resume === undefined ? null : readResume(opts.resume, kind);
  // A resumed run writes into its own folder; any other folder must be free (or --force).
  if (!resumed || cfg.out !== resumed.runDir) prepareRunDir(cfg.out, opts.force === true);
  const policy = resumed ? loadPolicy(resumed.checkpoint, resumed.tensors) : loadPolicy(cfg.model);
  return { policy, resumed };
}

/** The config a checkpoint was saved with, `overrides` applied and `out` set to its run folder. */
export function resumeConfig<T>(
  path: string,
  kind: 'sft' | 'grpo',
  overrides: Record<string, unknown>,
  parse: (json: JsonObject, source: string, baseDir: string) => T,
): T {
  const r = readResume(path, kind);
  const json: JsonObject = structuredClone(r.state.run);
  json.out = r.runDir;
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) setPath(json, k, v);
  return parse(json, join(r.checkpoint, 'trainer_state.json'), r.runDir);
}
