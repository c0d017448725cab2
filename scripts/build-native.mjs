// Builds the native kernel addon (src/kernels/native) with node-gyp against this Node's own headers
// (no download). Run by `npm run build:native` and by `prepare` (so `npm ci` builds it). Without a C++
// compiler the engine still runs, on the WASM kernels: this script then warns and exits 0.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, 'src/kernels/native');
const nodedir = dirname(dirname(process.execPath)); // <prefix>/bin/node → <prefix>, holding include/node

function gypScript() {
  // npm ships node-gyp; prefer the one beside the npm running us, then any resolvable one.
  const candidates = [];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '../node_modules/node-gyp/bin/node-gyp.js'));
  candidates.push(join(nodedir, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'));
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package
  }
  return candidates.find((p) => existsSync(p));
}

function warn(why) {
  console.warn(`build-native: ${why}; the WASM kernels will be used (slower for large models)`);
  process.exit(0);
}

if (process.env.DSTS_SKIP_NATIVE === '1') warn('DSTS_SKIP_NATIVE=1');
if (!existsSync(join(nodedir, 'include/node/node_api.h'))) warn(`no Node headers under ${nodedir}/include/node`);
const gyp = gypScript();
if (!gyp) warn('node-gyp not found');
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, `--directory=${dir}`, '--jobs=2'], {
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
});
if (r.status !== 0) {
  process.stderr.write(r.stdout.slice(-4000) + r.stderr.slice(-4000));
  warn('the C++ build failed (output above)');
}
console.log('build-native: built src/kernels/native/build/Release/dsts_native.node');
