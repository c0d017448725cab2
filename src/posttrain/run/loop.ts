/**
 * The outer loop of a post-training run, as pre-training's (src/train/trainer.ts): steps until the
 * total or until the signal aborts, progress after each, a checkpoint every `interval` steps, at the
 * end and on interrupt (Ctrl-C finishes the step, saves, and returns), yielding to the event loop
 * between steps so signal handlers run.
 */
import type { ProgressInfo } from '../../train/progress.ts';

export interface LoopResult {
  step: number;
  interrupted: boolean;
  /** The last checkpoint written (null when none was). */
  checkpoint: string | null;
}

export interface LoopOptions {
  startStep: number;
  total: number;
  /** Checkpoint every this many steps (0: only at the end). */
  interval: number;
  signal?: AbortSignal;
  /** Runs one step; returns what the progress display shows. */
  step(): Promise<{ loss: number; lr: number; tokensPerSec: number }>;
  /** After each step (evaluation, logging). */
  after?(step: number): void;
  save(): string;
  log(line: string): void;
  progress?(p: ProgressInfo): void;
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

export async function runLoop(o: LoopOptions): Promise<LoopResult> {
  let step = o.startStep;
  let checkpoint: string | null = null;
  let savedAt = -1;
  let avgSeconds = 0;
  if (step >= o.total) o.log(`nothing to do: the run is at step ${step} of ${o.total} (raise --steps to continue it)`);
  while (step < o.total && !o.signal?.aborted) {
    const t0 = performance.now();
    const s = await o.step();
    step++;
    const seconds = (performance.now() - t0) / 1000;
    avgSeconds = avgSeconds === 0 ? seconds : 0.9 * avgSeconds + 0.1 * seconds;
    o.after?.(step);
    o.progress?.({ step, total: o.total, loss: s.loss, lr: s.lr, tokensPerSec: s.tokensPerSec, etaSeconds: (o.total - step) * avgSeconds });
    if (o.interval > 0 && step % o.interval === 0 && step < o.total) {
      checkpoint = o.save();
      savedAt = step;
      o.log(`checkpoint → ${checkpoint}`);
    }
    await yieldToEventLoop();
  }
  const interrupted = step < o.total && o.signal?.aborted === true;
  if (step > o.startStep && savedAt !== step) {
    checkpoint = o.save();
    o.log(`${interrupted ? 'interrupted: ' : ''}checkpoint → ${checkpoint}`);
  }
  return { step, interrupted, checkpoint };
}
