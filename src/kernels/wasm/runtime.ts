/**
 * The WASM kernel runtime: one shared WebAssembly.Memory, one module instance per thread (the
 * main thread plus workers), a JS-side arena allocator, and synchronous job dispatch.
 *
 * Dispatch: the main thread writes the job descriptor, publishes the job's chunk tickets, bumps
 * the generation word and notifies; every thread (the main one included) then takes tickets
 * with an atomic add until none is left; the main thread blocks (Atomics.wait) until all
 * chunks are done. Workers are unref'd, so idle workers never keep the process alive.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { Arena } from './arena.ts';
import { ARENA_BASE, CTRL, MAX_CHUNKS, PARAM_F32, PARAM_I32, TICKET_BITS } from './layout.ts';
import { WA, type WasmGlobal, type WasmMemory } from './wasm-api.ts';
import { e4m3DecodeTable, e5m2DecodeTable, f16DecodeTable } from '../decode-tables.ts';

const MAX_PAGES = 65536; // 4 GiB: the wasm32 limit
const SPIN = 20000; // Atomics.load polls before sleeping (a few microseconds)

interface Exports {
  run(tid: number): void;
  compactA(A: number, lda: number, transA: number, M: number, K: number, alpha: number, dst: number): void;
  prepX(kind: number, blockCols: number, X: number, M: number, K: number, Xp: number, mul: number): void;
  /** Row tiles for mat-vec weights (assembly/tiles.ts). */
  tileWeight(kind: number, src: number, N: number, K: number, dst: number): void;
  tiledBytes(kind: number, N: number, K: number): number;
  paddedK(kind: number, K: number): number;
  GEMM_SCRATCH: WasmGlobal;
  /** GEMM micro-tile and widest C tile of this build. */
  MR: WasmGlobal;
  NR: WasmGlobal;
  TN_MAX: WasmGlobal;
}

/** Thread count: DSTS_THREADS when set, else every available core. */
export function defaultThreads(): number {
  const env = Number(process.env.DSTS_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

/**
 * Loads the relaxed-SIMD build when this V8 accepts it (enabling the flag on Node 20), else plain
 * SIMD. `wantRelaxed` false forces the plain build (as does DSTS_RELAXED_SIMD=0).
 */
function pickModule(buildDir: URL, wantRelaxed: boolean): { bytes: Uint8Array; relaxed: boolean } {
  const plain = readFileSync(new URL('kernels.wasm', buildDir));
  if (wantRelaxed && process.env.DSTS_RELAXED_SIMD !== '0') {
    let relaxed: Uint8Array | null = null;
    try {
      relaxed = readFileSync(new URL('kernels-relaxed.wasm', buildDir));
    } catch {
      // Only the plain build exists.
    }
    if (relaxed) {
      // Node 20's V8 implements relaxed SIMD behind a flag (on by default from Node 22).
      if (!WA.validate(relaxed)) setFlagsFromString('--experimental-wasm-relaxed-simd');
      if (WA.validate(relaxed)) return { bytes: relaxed, relaxed: true };
    }
  }
  if (!WA.validate(plain)) throw new Error('this Node.js lacks WebAssembly SIMD or threads');
  return { bytes: plain, relaxed: false };
}

export class Runtime {
  readonly memory: WasmMemory;
  readonly arena: Arena;
  readonly exports: Exports;
  readonly threads: number;
  readonly relaxed: boolean;
  /** Set after a kernel trapped: the memory may be inconsistent, so callers stop using WASM. */
  broken = false;
  private readonly workers: Worker[] = [];
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private buf!: ArrayBuffer | SharedArrayBuffer;
  private i32v!: Int32Array;
  private i64v!: BigInt64Array;
  private f32v!: Float32Array;
  private f64v!: Float64Array;
  private u8v!: Uint8Array;
  private scratchBytes = 0;
  private scratchPtr = 0;

  constructor(buildDir: URL, threads = defaultThreads(), wantRelaxed = true) {
    const { bytes, relaxed } = pickModule(buildDir, wantRelaxed);
    this.relaxed = relaxed;
    const module = new WA.Module(bytes);
    this.memory = new WA.Memory({ initial: (ARENA_BASE >> 16) + 64, maximum: MAX_PAGES, shared: true });
    const abort = () => {
      throw new Error('kernel abort');
    };
    this.exports = new WA.Instance(module, { env: { memory: this.memory, abort } }).exports as unknown as Exports;
    this.arena = new Arena(this.memory, ARENA_BASE, MAX_PAGES * 65536);
    this.threads = Math.max(1, threads);
    this.refresh();
    this.ensureScratch(Number(this.exports.GEMM_SCRATCH.value));
    this.installTables();
    for (let tid = 1; tid < this.threads; tid++) {
      const w = new Worker(new URL('./worker.mjs', import.meta.url), {
        workerData: { module, memory: this.memory, tid, ctrl: CTRL, spin: SPIN },
        execArgv: [],
      });
      w.unref();
      this.workers.push(w);
    }
  }

  /** Views over the whole memory (re-made after the memory grows). */
  get f32(): Float32Array {
    this.refresh();
    return this.f32v;
  }
  get i32(): Int32Array {
    this.refresh();
    return this.i32v;
  }
  get f64(): Float64Array {
    this.refresh();
    return this.f64v;
  }
  get u8(): Uint8Array {
    this.refresh();
    return this.u8v;
  }

  private refresh(): void {
    const b = this.memory.buffer;
    if (b === this.buf) return;
    this.buf = b;
    this.buffers.add(b);
    this.i32v = new Int32Array(b);
    this.i64v = new BigInt64Array(b, 0, 8);
    this.f32v = new Float32Array(b);
    this.f64v = new Float64Array(b);
    this.u8v = new Uint8Array(b);
  }

  /** Whether a typed array lives in kernel memory (then kernels use it in place, without copies). */
  owns(a: ArrayBufferView): boolean {
    this.refresh();
    return this.buffers.has(a.buffer);
  }

  /** Makes every thread's scratch at least `bytes` (only between jobs). */
  ensureScratch(bytes: number): void {
    if (bytes <= this.scratchBytes) return;
    const stride = Math.ceil(bytes / 4096) * 4096;
    if (this.scratchPtr) this.arena.release(this.scratchPtr);
    this.scratchPtr = this.arena.alloc(stride * this.threads);
    this.scratchBytes = stride;
    const ctrl = this.i32;
    ctrl[CTRL.SCRATCH_BASE] = this.scratchPtr;
    ctrl[CTRL.SCRATCH_STRIDE] = stride;
  }

  private installTables(): void {
    const put = (t: Float32Array, slot: number) => {
      const p = this.arena.alloc(t.byteLength);
      this.f32.set(t, p >> 2);
      this.i32[slot] = p;
    };
    put(f16DecodeTable(), CTRL.LUT_F16);
    put(e4m3DecodeTable(), CTRL.LUT_E4M3);
    put(e5m2DecodeTable(), CTRL.LUT_E5M2);
  }

  /**
   * Runs job `kind` in `total` chunks. `params` fills the descriptor (i32 and f32 views at the
   * parameter offsets). With `parallel` false (small jobs) the main thread runs every chunk.
   */
  dispatch(kind: number, total: number, parallel: boolean, params: (i: Int32Array, f: Float32Array) => void): void {
    if (this.broken) throw new Error('WASM kernels disabled after an earlier failure');
    if (total <= 0) return;
    if (total > MAX_CHUNKS) throw new RangeError(`kernel job of ${total} chunks (max ${MAX_CHUNKS})`);
    const ctrl = this.i32;
    params(ctrl.subarray(PARAM_I32, PARAM_I32 + 32), this.f32v.subarray(PARAM_F32, PARAM_F32 + 16));
    ctrl[CTRL.KIND] = kind;
    Atomics.store(ctrl, CTRL.DONE, 0);
    // Publishing the tickets (count, next = 0) opens the job; the atomic store orders the
    // descriptor writes above before any thread can take a ticket.
    Atomics.store(this.i64v, CTRL.TICKET64, BigInt(total) << TICKET_BITS);
    const wake = parallel && total > 1 && this.workers.length > 0;
    if (wake) {
      Atomics.add(ctrl, CTRL.GEN, 1);
      Atomics.notify(ctrl, CTRL.GEN);
    }
    try {
      this.exports.run(0);
    } catch (e) {
      this.fail();
      throw e;
    }
    for (let spins = 0; ; spins++) {
      const done = Atomics.load(ctrl, CTRL.DONE);
      if (done >= total) break;
      if (Atomics.load(ctrl, CTRL.ERROR)) {
        this.fail();
        throw new Error('a kernel worker failed (see its message above)');
      }
      if (spins > SPIN) Atomics.wait(ctrl, CTRL.DONE, done, 100);
    }
  }

  /** Stops the workers and marks the runtime unusable. */
  private fail(): void {
    this.broken = true;
    Atomics.store(this.i64v, CTRL.TICKET64, 0n); // no tickets left for anyone
    this.close();
  }

  /** Asks the workers to exit (they are unref'd, so this is only needed to free them early). */
  close(): void {
    const ctrl = this.i32;
    Atomics.store(ctrl, CTRL.QUIT, 1);
    Atomics.add(ctrl, CTRL.GEN, 1);
    Atomics.notify(ctrl, CTRL.GEN);
  }
}
