/**
 * The progress display on stderr: on a terminal, one bar redrawn in place every step; otherwise
 * (a log file, CI) a plain line every `interval` steps. Both show step/total, loss, learning rate,
 * tokens/s and the estimated time left.
 */

export interface ProgressInfo {
  step: number;
  total: number;
  loss: number;
  lr: number;
  /** Throughput (the trainer passes an average over recent steps). */
  tokensPerSec: number;
  /** Seconds left at the current pace. */
  etaSeconds: number;
  /** Latest evaluation loss, when there is one. */
  evalLoss?: number;
}

/** Where progress goes: a stream with `write` and (for terminals) `isTTY` and `columns`. */
export interface ProgressSink {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** "1h02m", "3m05s", "12s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

function fields(p: ProgressInfo): string {
  const width = String(p.total).length;
  const parts = [
    `step ${String(p.step).padStart(width)}/${p.total}`,
    `loss ${p.loss.toFixed(4)}`,
    ...(p.evalLoss !== undefined ? [`eval ${p.evalLoss.toFixed(4)}`] : []),
    `lr ${p.lr.toExponential(2)}`,
    `${p.tokensPerSec >= 100 ? Math.round(p.tokensPerSec) : p.tokensPerSec.toFixed(1)} tok/s`,
    `ETA ${formatDuration(p.etaSeconds)}`,
  ];
  return parts.join('  ');
}

export class ProgressReporter {
  private barShown = false;

  constructor(
    private readonly out: ProgressSink,
    private readonly interval = 10,
  ) {}

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  /** Shows the state after a step (every step on a terminal; every `interval` steps and the last otherwise). */
  update(p: ProgressInfo): void {
    if (this.tty) {
      const width = 24;
      const filled = Math.round((width * p.step) / Math.max(1, p.total));
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${fields(p)}`;
      // Never wider than the terminal (a wrapped line could not be redrawn in place); a terminal
      // that reports no width (0, e.g. under `script`) gets a generous default.
      const cols = this.out.columns !== undefined && this.out.columns > 20 ? this.out.columns : 160;
      this.out.write(`\r\x1b[2K${line.slice(0, cols - 1)}`);
      this.barShown = true;
    } else if (p.step % this.interval === 0 || p.step === p.total || p.step === 1) {
      this.out.write(`${fields(p)}\n`);
    }
  }

  /** Prints a line of its own (above the bar on a terminal). */
  message(line: string): void {
    if (this.tty && this.barShown) {
      this.out.write(`\r\x1b[2K${line}\n`);
      this.barShown = false;
    } else {
      this.out.write(`${line}\n`);
    }
  }

  /** Ends the bar's line so later output starts on a fresh one. */
  finish(): void {
    if (this.tty && this.barShown) this.out.write('\n');
    this.barShown = false;
  }
}
