/**
 * One optimizer update of a post-training run, exactly as pre-training makes it (src/train): global
 * gradient norm, clip factor, AdamW at the scheduled learning rate, gradients dropped. A step whose
 * gradient is not finite is skipped rather than poisoning the weights.
 */
import { AdamW } from '../../train/optim/adamw.ts';
import { clipScale, gradNorm } from '../../train/optim/clip.ts';
import type { Param } from '../../train/optim/params.ts';
import { learningRate, type ScheduleConfig } from '../../train/schedule.ts';
import type { OptimizerConfig } from '../../train/config/run-config.ts';

export interface UpdateResult {
  lr: number;
  gradNorm: number;
  skipped: boolean;
}

export class PolicyUpdater {
  readonly optimizer: AdamW;
  /** Updates made so far (the schedule's step). */
  updates = 0;

  constructor(
    readonly params: readonly Param[],
    readonly options: OptimizerConfig,
    readonly schedule: ScheduleConfig,
    /** Updates the whole run makes (the schedule's length). */
    readonly totalUpdates: number,
  ) {
    const { beta1, beta2, eps, weightDecay, momentsDtype } = options;
    this.optimizer = new AdamW(params, { beta1, beta2, eps, weightDecay, moments: momentsDtype });
  }

  /** Applies the accumulated gradients (times `gradScale`) and clears them. */
  update(gradScale = 1): UpdateResult {
    const lr = learningRate(this.schedule, this.options.lr, this.updates, this.totalUpdates);
    const norm = gradNorm(this.params, gradScale);
    const skipped = !Number.isFinite(norm);
    if (!skipped) this.optimizer.step(lr, gradScale * clipScale(norm, this.options.gradClip));
    this.optimizer.zeroGrad();
    this.updates++;
    return { lr, gradNorm: norm, skipped };
  }
}
