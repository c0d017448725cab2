/**
 * The run's metrics as JSON Lines (`metrics.jsonl`): one object per optimizer step (`type: "train"`)
 * and per evaluation (`type: "eval"`), appended as they happen so a crashed run keeps what it
 * logged and `dsts plot` (or any tool) can read the file while training goes on.
 */
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { LoadStats } from './balance.ts';
import { writeFileAtomic } from '../io/safetensors/atomic.ts';

export interface StepMetrics {
  type: 'train';
  step: number;
  /** The total objective (CE + λ·mean MTP + balance), averaged over micro-batches. */
  loss: number;
  /** Next-token cross-entropy. */
  ce: number;
  /** Cross-entropy of each MTP depth (1-based depth k at index k − 1). */
  mtp: number[];
  /** The balance loss as added (α-weighted). */
  balance: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Tokens trained on so far (inputs of every micro-batch). */
  tokens: number;
  tokensPerSec: number;
  /** Seconds of training so far (across resumes). */
  elapsed: number;
  /** Expert load per MoE layer over the step's micro-batches. */
  load: LoadStats[];
  /** Milliseconds of the step spent reading data, in forward + backward, and in clipping + AdamW + bias update. */
  ms: { data: number; compute: number; optimizer: number };
  /** A custom objective's named terms (e.g. distillation's soft-label and hidden-state losses), averaged over micro-batches. */
  parts?: Record<string, number>;
  /** Present (true) when the step's gradient was not finite and the update was skipped. */
  skipped?: boolean;
}

export interface EvalMetrics {
  type: 'eval';
  step: number;
  /** Mean next-token cross-entropy on the held-out sequences. */
  loss: number;
  /** exp(loss). */
  ppl: number;
  /** Target tokens evaluated. */
  tokens: number;
}

export type MetricsRecord = StepMetrics | EvalMetrics;

/** Appends records to a JSONL file. */
export class MetricsLog {
  private fd: number | null;

  /**
   * Opens `path` for appending. With `keepUpTo` (a resumed run), records of steps after it — logged
   * by the interrupted run after its last checkpoint, and about to be redone — are dropped first.
   */
  constructor(
    readonly path: string,
    keepUpTo?: number,
  ) {
    if (keepUpTo !== undefined && existsSync(path)) {
      const kept = readMetrics(path).filter((r) => r.step <= keepUpTo);
      writeFileAtomic(path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
    }
    this.fd = openSync(path, 'a');
  }

  write(record: MetricsRecord): void {
    if (this.fd === null) throw new Error('metrics log is closed');
    writeSync(this.fd, JSON.stringify(record) + '\n');
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Reads a metrics file; lines that are not JSON objects with a numeric `step` are skipped (a torn last line). */
export function readMetrics(path: string): MetricsRecord[] {
  const out: MetricsRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as MetricsRecord;
      if (typeof r === 'object' && r !== null && typeof r.step === 'number') out.push(r);
    } catch {
      // a line cut off by a crash: ignore it
    }
  }
  return out;
}
