// Kernel worker: instantiates the kernels module over the shared memory and runs chunks of every
// job the main thread posts. Plain .mjs (no TypeScript) so it starts without tsx.
import { workerData } from 'node:worker_threads';

const { module, memory, tid, ctrl: C, spin } = workerData;
const instance = new WebAssembly.Instance(module, {
  env: {
    memory,
    abort: () => {
      throw new Error('abort');
    },
  },
});
const run = instance.exports.run;
const ctrl = new Int32Array(memory.buffer, 0, 16);

let seen = Atomics.load(ctrl, C.GEN);
for (;;) {
  // Spin briefly (back-to-back jobs come microseconds apart), then sleep on the generation word.
  let g = Atomics.load(ctrl, C.GEN);
  for (let i = 0; g === seen && i < spin; i++) g = Atomics.load(ctrl, C.GEN);
  if (g === seen) {
    Atomics.wait(ctrl, C.GEN, seen);
    continue;
  }
  seen = g;
  if (Atomics.load(ctrl, C.QUIT)) break;
  try {
    run(tid);
  } catch (e) {
    // A trap here is a kernel bug; tell the main thread instead of leaving it waiting.
    Atomics.store(ctrl, C.ERROR, 1);
    Atomics.notify(ctrl, C.DONE);
    console.error(`deepseek-ts kernel worker ${tid}:`, e);
    break;
  }
}
