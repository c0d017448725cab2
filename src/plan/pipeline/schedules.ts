/**
 * The order each device runs its operations in, for three schedules:
 *
 * - 1F1B (PipeDream-Flush / Megatron): P−1−s warm-up forwards on stage s, then one forward and one
 *   full backward alternately, then the remaining backwards.
 * - ZB1P (Qi et al. 2023, "Zero Bubble Pipeline Parallelism", ZB-H1): backward split into input and
 *   weight gradients, the input gradient sent at once since the previous stage waits for it. Stage s
 *   runs P−s−1 warm-up forwards, then s forward + input-backward pairs whose weight gradients wait,
 *   then forward, backward, weight in turn, then the remaining backwards and, last, the s deferred
 *   weight gradients (the first stage keeps full backwards). This is the order of the ZB-H1 schedule
 *   the zero-bubble authors contributed to DeepSpeed (`ZeroBubbleH1Pipeline`, exact semantics).
 * - DualPipe (DeepSeek-V3 §3.2.1): two pipelines in opposite directions, each device holding stage s
 *   of one and stage P−1−s of the other, half of the micro-batches fed from each end; forward and
 *   backward chunks of the two directions overlapped in the steady phase; the order is the eight
 *   steps of deepseek-ai/DualPipe's `DualPipe.step`, re-expressed as an operation list per device.
 */
import type { Chunk, Op } from './ops.ts';

export function oneFOneB(pp: number, m: number): Op[][] {
  const out: Op[][] = [];
  for (let s = 0; s < pp; s++) {
    const ops: Op[] = [];
    const warm = Math.min(pp - 1 - s, m);
    let f = 0;
    let b = 0;
    for (; f < warm; f++) ops.push({ kind: 'F', f: { dir: 0, mb: f } });
    while (f < m) {
      ops.push({ kind: 'F', f: { dir: 0, mb: f++ } });
      ops.push({ kind: 'BW', b: { dir: 0, mb: b++ } });
    }
    while (b < m) ops.push({ kind: 'BW', b: { dir: 0, mb: b++ } });
    out.push(ops);
  }
  return out;
}

export function dualPipe(pp: number, m: number): Op[][] {
  if (pp % 2 !== 0 || m % 2 !== 0 || m < 2 * pp) throw new RangeError(`DualPipe needs even pp and an even m ≥ 2·pp (pp ${pp}, m ${m})`);
  const half = pp / 2;
  const out: Op[][] = [];
  for (let rank = 0; rank < pp; rank++) {
    const ops: Op[] = [];
    const second = rank >= half;
    const h = Math.min(rank, pp - 1 - rank);
    const middle = rank === half - 1 || rank === half;
    // Phase 0 is the direction this half of the devices feeds; phase 1 the other.
    const dirOf = (phase: 0 | 1): 0 | 1 => (phase ^ (second ? 1 : 0)) as 0 | 1;
    const nextF = [0, 0];
    const nextB = [0, 0];
    const pendingW: Chunk[] = [];
    const F = (phase: 0 | 1): Chunk => ({ dir: dirOf(phase), mb: nextF[phase]!++ });
    const Bc = (phase: 0 | 1): Chunk => ({ dir: dirOf(phase), mb: nextB[phase]!++ });
    const fwd = (phase: 0 | 1) => ops.push({ kind: 'F', f: F(phase) });
    const bwd = (phase: 0 | 1, zb: boolean) => {
      const b = Bc(phase);
      if (zb) {
        ops.push({ kind: 'B', b });
        pendingW.push(b);
      } else ops.push({ kind: 'BW', b });
    };
    const weight = () => ops.push({ kind: 'W', b: pendingW.shift()! });
    const fb = (p0: 0 | 1, p1: 0 | 1) => ops.push({ kind: 'FB', f: F(p0), b: Bc(p1) });

    for (let i = 0; i < (half - h - 1) * 2; i++) fwd(0); // step 1: nF0
    for (let i = 0; i < h + 1; i++) {
      fwd(0); // step 2: nF0F1
      fwd(1);
    }
    for (let i = 0; i < half - h - 1; i++) {
      bwd(1, true); // step 3: nB1W1F1
      weight();
      fwd(1);
    }
    for (let i = 0; i < m / 2 - pp + h + 1; i++) {
      // step 4: nF0B1F1B0 (the middle devices do not overlap their first pair)
      if (i === 0 && middle) {
        fwd(0);
        bwd(1, false);
      } else fb(0, 1);
      fb(1, 0);
    }
    for (let i = 0; i < half - h - 1; i++) {
      bwd(1, false); // step 5: nB1F1B0
      fb(1, 0);
    }
    let zb = false;
    const s6 = h + 1;
    for (let i = 0; i < s6; i++) {
      // step 6: nB1B0, the second half with zero-bubble splits
      if (i === Math.floor(s6 / 2) && h % 2 === 1) zb = true;
      bwd(1, zb);
      if (i === Math.floor(s6 / 2) && h % 2 === 0) zb = true;
      bwd(0, zb);
    }
    for (let i = 0; i < half - h - 1; i++) {
      weight(); // step 7: nWB0
      bwd(0, true);
    }
    for (let i = 0; i < h + 1; i++) weight(); // step 8: nW
    if (pendingW.length !== 0) throw new Error('DualPipe schedule left weight backwards undone');
    out.push(ops);
  }
  return out;
}

export function zb1p(pp: number, m: number): Op[][] {
  const out: Op[][] = [];
  for (let s = 0; s < pp; s++) {
    const ops: Op[] = [];
    const pending: Chunk[] = [];
    let f = 0;
    let b = 0;
    const F = () => ops.push({ kind: 'F', f: { dir: 0, mb: f++ } });
    const back = () => {
      const c: Chunk = { dir: 0, mb: b++ };
      if (s === 0) ops.push({ kind: 'BW', b: c });
      else {
        ops.push({ kind: 'B', b: c });
        pending.push(c);
      }
    };
    const W = () => ops.push({ kind: 'W', b: pending.shift()! });
    for (let i = 0; i < pp - s - 1 && f < m; i++) F();
    for (let i = 0; i < s && f < m; i++) {
      F();
      const c: Chunk = { dir: 0, mb: b++ };
      ops.push({ kind: 'B', b: c });
      pending.push(c);
    }
    while (f < m) {
      F();
      back();
      if (s !== 0) W();
    }
    while (b < m) {
      back();
      if (s !== 0) W();
    }
    while (pending.length > 0) W();
    out.push(ops);
  }
  return out;
}
