// Builds the WASM kernels (src/kernels/wasm/assembly) into build/: a plain SIMD + threads
// module and a relaxed-SIMD one (fused multiply-add); the loader picks what the runtime accepts.
// Run by `npm run build` and by `prepare` (so `npm ci` builds it).
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let asc;
try {
  asc = (await import('assemblyscript/asc')).default;
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  // Production installs (--omit=dev) lack the compiler: the engine then runs the reference kernels.
  console.warn('build-wasm: assemblyscript not installed; skipping the WASM kernels (reference kernels will be used)');
  process.exit(0);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = 'src/kernels/wasm/assembly/index.ts';
const common = [
  entry,
  '-O3',
  '--noAssert',
  '--runtime',
  'stub',
  '--importMemory',
  '--sharedMemory',
  '--initialMemory',
  '32',
  '--maximumMemory',
  '65536',
  '--memoryBase',
  '4096',
];
const variants = [
  { out: 'build/kernels.wasm', features: 'simd,threads' },
  { out: 'build/kernels-relaxed.wasm', features: 'simd,threads,relaxed-simd' },
];

mkdirSync(new URL('../build', import.meta.url), { recursive: true });
process.chdir(root);
for (const v of variants) {
  const { error, stderr } = await asc.main([...common, '--enable', v.features, '-o', v.out]);
  const messages = stderr.toString();
  if (error) {
    console.error(messages);
    console.error(`build-wasm: ${v.out} failed: ${error.message}`);
    process.exit(1);
  }
  if (messages.trim()) console.error(messages);
  console.log(`build-wasm: ${v.out}`);
}
