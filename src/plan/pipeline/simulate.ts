/**
 * An event simulation of a pipeline schedule: each device runs its operations one at a time, an
 * operation starts when the device is free and its inputs have arrived (the previous stage's forward
 * output, the next stage's input gradient, each `comm` after it was produced; a weight backward
 * after its input backward), and the step ends when the last operation does. The result holds every
 * operation's start and end (what svg.ts draws), each device's idle time (the bubble) and the peak
 * number of micro-batch chunks whose activations a device holds (forward started, weight gradient
 * not yet done).
 */
import { duration, stageOf, type Chunk, type Op, type OpCosts } from './ops.ts';
import { dualPipe, oneFOneB, zb1p } from './schedules.ts';
import type { ScheduleName } from '../layout.ts';

export interface Timed {
  op: Op;
  start: number;
  end: number;
}

export interface Simulation {
  schedule: ScheduleName;
  pp: number;
  microBatches: number;
  costs: OpCosts;
  devices: Timed[][];
  /** End of the last operation. */
  makespan: number;
  /** Per device: makespan − time spent computing. */
  bubble: number[];
  /** Per device: the most chunks with live activations at once. */
  peakActivations: number[];
  /** Parameter copies per device relative to one stage's (DualPipe holds two stages). */
  parameterCopies: number;
}

type Key = string;
const key = (c: Chunk, stage: number) => `${c.dir}:${stage}:${c.mb}`;

export function simulate(schedule: ScheduleName, pp: number, m: number, costs: OpCosts): Simulation {
  const comm = costs.comm ?? 0;
  const lists = schedule === '1f1b' ? oneFOneB(pp, m) : schedule === 'dualpipe' ? dualPipe(pp, m) : zb1p(pp, m);
  const fDone = new Map<Key, number>();
  const bDone = new Map<Key, number>();
  const devices: Timed[][] = Array.from({ length: pp }, () => []);
  const free = new Array<number>(pp).fill(0);
  const next = new Array<number>(pp).fill(0);
  const live = new Array<number>(pp).fill(0);
  const peak = new Array<number>(pp).fill(0);
  const total = lists.reduce((a, l) => a + l.length, 0);

  const fReady = (d: number, c: Chunk): number | undefined => {
    const s = stageOf(d, c.dir, pp);
    if (s === 0) return 0;
    const t = fDone.get(key(c, s - 1));
    return t === undefined ? undefined : t + comm;
  };
  const bReady = (d: number, c: Chunk): number | undefined => {
    const s = stageOf(d, c.dir, pp);
    const own = fDone.get(key(c, s));
    if (own === undefined) return undefined;
    if (s === pp - 1) return own;
    const t = bDone.get(key(c, s + 1));
    return t === undefined ? undefined : Math.max(own, t + comm);
  };
  const ready = (d: number, op: Op): number | undefined => {
    switch (op.kind) {
      case 'F':
        return fReady(d, op.f);
      case 'B':
      case 'BW':
        return bReady(d, op.b);
      case 'W':
        return bDone.get(key(op.b, stageOf(d, op.b.dir, pp)));
      case 'FB': {
        const a = fReady(d, op.f);
        const b = bReady(d, op.b);
        return a === undefined || b === undefined ? undefined : Math.max(a, b);
      }
    }
  };
  for (let done = 0; done < total; done++) {
    // The device whose next operation can start first (each device keeps its schedule's order).
    let best: { d: number; op: Op; start: number } | undefined;
    for (let d = 0; d < pp; d++) {
      const op = lists[d]![next[d]!];
      const r = op === undefined ? undefined : ready(d, op);
      if (op === undefined || r === undefined) continue;
      const start = Math.max(free[d]!, r);
      if (best === undefined || start < best.start) best = { d, op, start };
    }
    if (best === undefined) throw new Error(`${schedule}: schedule deadlocked after ${done} of ${total} operations`);
    const { d, op, start } = best;
    const end = start + duration(op, costs);
    devices[d]!.push({ op, start, end });
    free[d] = end;
    next[d]!++;
    if (op.kind === 'F' || op.kind === 'FB') {
      fDone.set(key(op.f, stageOf(d, op.f.dir, pp)), end);
      live[d]!++;
      peak[d] = Math.max(peak[d]!, live[d]!);
    }
    if (op.kind === 'B' || op.kind === 'BW' || op.kind === 'FB') {
      bDone.set(key(op.b, stageOf(d, op.b.dir, pp)), end);
    }
    if (op.kind === 'W' || op.kind === 'BW' || op.kind === 'FB') {
      live[d]!--;
    }
  }
  const makespan = Math.max(...free);
  const bubble = devices.map((ops) => makespan - ops.reduce((a, t) => a + (t.end - t.start), 0));
  return {
    schedule,
    pp,
    microBatches: m,
    costs,
    devices,
    makespan,
    bubble,
    peakActivations: peak,
    parameterCopies: schedule === 'dualpipe' ? 2 : 1,
  };
}

/** The closed forms of the DualPipe repository's table, for the same costs. */
export function tableBubble(schedule: ScheduleName, pp: number, c: OpCosts): number {
  const fb = c.FB ?? c.F + c.B;
  if (schedule === '1f1b') return (pp - 1) * (c.F + c.B);
  if (schedule === 'zb1p') return (pp - 1) * (c.F + c.B - 2 * c.W);
  return (pp / 2 - 1) * (fb + c.B - 3 * c.W);
}

/** The table's activation memory, in micro-batch chunks of one stage: PP, PP, PP + 1. */
export const tableActivations = (schedule: ScheduleName, pp: number) => (schedule === 'dualpipe' ? pp + 1 : pp);
