/**
 * Per-call staging of JS arrays in kernel memory. Arrays that already live in kernel memory are
 * used in place; others are copied in (compacting strided matrices), and outputs are copied back
 * by `finish()`. Every temporary is released when the call ends, whether it succeeded or not.
 */
import type { Runtime } from './runtime.ts';

type F32Like = Float32Array;

export interface Mat {
  /** Byte address of element [0, 0]. */
  ptr: number;
  /** Leading dimension in elements. */
  ld: number;
}

export class Frame {
  private readonly temps: number[] = [];
  private readonly outs: (() => void)[] = [];

  constructor(readonly rt: Runtime) {}

  /** A zeroed-or-garbage scratch block of `bytes` for this call. */
  temp(bytes: number): number {
    const p = this.rt.arena.alloc(bytes);
    this.temps.push(p);
    return p;
  }

  /** rows×cols f32 matrix at `offset` (leading dimension ld) as an input. */
  inMat(a: F32Like, offset: number, rows: number, cols: number, ld: number): Mat {
    if (this.rt.owns(a)) return { ptr: a.byteOffset + offset * 4, ld };
    const p = this.temp(rows * cols * 4);
    copyIn(this.rt.f32, p >> 2, a, offset, rows, cols, ld);
    return { ptr: p, ld: cols };
  }

  /** Contiguous f32 input of n values. */
  inVec(a: F32Like, offset: number, n: number): number {
    return this.inMat(a, offset, 1, n, n).ptr;
  }

  /** Any typed array as raw bytes (targets, weights): in place or copied. */
  inBytes(a: ArrayBufferView): number {
    if (this.rt.owns(a)) return a.byteOffset;
    const p = this.temp(a.byteLength);
    this.rt.u8.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), p);
    return p;
  }

  /** rows×cols f32 output; `load` copies its current values in first (for beta ≠ 0 or in-place reads). */
  outMat(a: F32Like, offset: number, rows: number, cols: number, ld: number, load: boolean): Mat {
    if (this.rt.owns(a)) return { ptr: a.byteOffset + offset * 4, ld };
    const p = this.temp(rows * cols * 4);
    if (load) copyIn(this.rt.f32, p >> 2, a, offset, rows, cols, ld);
    this.outs.push(() => copyOut(this.rt.f32, p >> 2, a, offset, rows, cols, ld));
    return { ptr: p, ld: cols };
  }

  outVec(a: F32Like, offset: number, n: number, load = false): number {
    return this.outMat(a, offset, 1, n, n, load).ptr;
  }

  /** Copies outputs back (on success) and releases every temporary. */
  finish(ok: boolean): void {
    try {
      if (ok) for (const f of this.outs) f();
    } finally {
      for (const p of this.temps) this.rt.arena.release(p);
      this.temps.length = 0;
      this.outs.length = 0;
    }
  }
}

function copyIn(mem: Float32Array, dst: number, a: F32Like, offset: number, rows: number, cols: number, ld: number): void {
  if (rows === 0 || cols === 0) return;
  if (ld === cols) {
    mem.set(a.subarray(offset, offset + rows * cols), dst);
    return;
  }
  for (let r = 0; r < rows; r++) mem.set(a.subarray(offset + r * ld, offset + r * ld + cols), dst + r * cols);
}

function copyOut(mem: Float32Array, src: number, a: F32Like, offset: number, rows: number, cols: number, ld: number): void {
  if (rows === 0 || cols === 0) return;
  if (ld === cols) {
    a.set(mem.subarray(src, src + rows * cols), offset);
    return;
  }
  for (let r = 0; r < rows; r++) a.set(mem.subarray(src + r * cols, src + (r + 1) * cols), offset + r * ld);
}

/** Runs `body` with a frame, copying outputs back on success and always freeing temporaries. */
export function withFrame<T>(rt: Runtime, body: (f: Frame) => T): T {
  const f = new Frame(rt);
  let ok = false;
  try {
    const r = body(f);
    ok = true;
    return r;
  } finally {
    f.finish(ok);
  }
}
