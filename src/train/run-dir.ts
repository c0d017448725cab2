/**
 * The run's output folder. A new run gets an empty (or new) folder; a folder already holding a run
 * (run.json, checkpoints) or anything else is never written into silently: the user resumes it,
 * picks another folder, or passes --force.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrainError } from './errors.ts';
import { listCheckpoints } from './checkpoint.ts';
import type { JsonObject } from './config/reader.ts';

export const RUN_JSON = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';

/** Whether `dir` holds a training run (its run.json or a checkpoint). */
export function isRunDir(dir: string): boolean {
  return existsSync(join(dir, RUN_JSON)) || listCheckpoints(dir).length > 0;
}

/**
 * Makes `dir` ready for a new run. An existing non-empty folder is refused unless `force`; with
 * `force`, a previous run's checkpoints, metrics and run.json there are deleted first (other files
 * are left alone).
 */
export function prepareRunDir(dir: string, force: boolean): void {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    return;
  }
  if (!statSync(dir).isDirectory()) throw new TrainError(`output ${dir} exists and is not a folder`);
  const entries = readdirSync(dir);
  if (entries.length === 0) return;
  const run = isRunDir(dir);
  if (!force) {
    throw new TrainError(
      run
        ? `${dir} already holds a training run: continue it with --resume ${dir}, or pass --force to start over (deleting its checkpoints and metrics)`
        : `${dir} is not empty: choose a new output folder, or pass --force to write into it`,
    );
  }
  for (const name of entries) {
    if (/^\.?checkpoint-\d+/.test(name) || name === METRICS_FILE || name === RUN_JSON)
      rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/** Records the resolved run config in the folder (what `isRunDir` recognises). */
export function writeRunJson(dir: string, run: JsonObject): void {
  writeFileSync(join(dir, RUN_JSON), `${JSON.stringify(run, null, 2)}\n`);
}
