/**
 * What a checkpoint will take in memory, worked out from its headers before anything is read, and the
 * refusal when it cannot fit: one line with what it needs, what there is, and which `--quantize`
 * scheme would fit. Nothing is loaded, so nothing is left half-loaded.
 */
import { freemem } from 'node:os';
import type { Checkpoint } from '../io/safetensors/index.ts';
import type { ModelConfig } from '../io/config.ts';
import { UserFacingError } from '../io/errors.ts';
import type { QuantScheme } from '../kernels/types.ts';
import { QUANT_SCHEMES, quantizable, quantizedBytes } from './quantize.ts';

export class ModelTooLargeError extends UserFacingError {
  constructor(message: string) {
    super(message);
    this.name = 'ModelTooLargeError';
  }
}

const GB = 1e9;

/** Room to run besides the weights: activations, caches, the runtime — 10% of the weights plus 128 MiB. */
export function runMargin(weights: number): number {
  return weights * 0.1 + 128 * 2 ** 20;
}
const fmt = (b: number) => `${(b / GB).toFixed(1)} GB`;

/** Bytes the model's weights take once loaded: stored size, or the scheme's for the tensors it converts. */
export function weightBytes(ckpt: Checkpoint, config: ModelConfig, scheme?: QuantScheme, asF32 = false): number {
  let total = 0;
  for (const name of ckpt.names()) {
    if (scheme && name.endsWith('_scale_inv')) continue; // replaced by the scheme's own scales
    const info = ckpt.info(name);
    const n = info.shape.reduce((a, b) => a * b, 1);
    if (scheme && !name.endsWith('_scale_inv') && quantizable(name, info.shape, scheme)) {
      total += quantizedBytes(scheme, info.shape[0]!, info.shape[1]!);
    } else if (asF32 && (info.dtype === 'BF16' || info.dtype === 'F16' || info.dtype.startsWith('F8'))) {
      total += n * 4;
    } else {
      total += info.byteLength;
    }
  }
  // A tied head is quantised into a copy of its own; the embedding stays as stored.
  if (
    scheme &&
    quantizable('lm_head.weight', [1, 1], scheme) &&
    config.tieWordEmbeddings &&
    ckpt.has('model.embed_tokens.weight') &&
    !ckpt.has('lm_head.weight')
  ) {
    const [V, H] = ckpt.info('model.embed_tokens.weight').shape as [number, number];
    total += quantizedBytes(scheme, V, H);
  }
  return total;
}

/**
 * Memory this process may still take: the OS's available memory, within a cgroup limit if one is set,
 * or DSTS_MEMORY_LIMIT_MB when given (to keep room for other work, or to try a limit).
 */
export function availableMemory(): number {
  const cap = Number(process.env.DSTS_MEMORY_LIMIT_MB);
  if (Number.isFinite(cap) && cap > 0) return cap * 2 ** 20;
  const free = freemem();
  const limit = process.constrainedMemory?.() ?? 0;
  return limit > 0 && limit < Number.MAX_SAFE_INTEGER ? Math.min(free, limit - process.memoryUsage().rss) : free;
}

/** One checkpoint to be held in memory, as the check sees it (headers only). */
export interface FitEntry {
  dir: string;
  ckpt: Checkpoint;
  config: ModelConfig;
  scheme: QuantScheme | undefined;
  asF32: boolean;
}

/**
 * Throws ModelTooLargeError when the weights (plus a working margin) exceed the available memory.
 * DSTS_SKIP_MEMORY_CHECK=1 skips the check (the OS may then swap or kill the process).
 */
export function checkFits(
  dir: string,
  ckpt: Checkpoint,
  config: ModelConfig,
  scheme: QuantScheme | undefined,
  asF32: boolean,
  have = availableMemory(),
): void {
  checkFitTogether([{ dir, ckpt, config, scheme, asF32 }], have);
}

/**
 * checkFits for models held at once (a server's): their weights and margins are added up, and the
 * hint says which --quantize scheme, applied to all of them, would fit.
 */
export function checkFitTogether(models: readonly FitEntry[], have = availableMemory()): void {
  if (process.env.DSTS_SKIP_MEMORY_CHECK === '1' || models.length === 0) return;
  const total = (scheme: (m: FitEntry) => QuantScheme | undefined) =>
    models.reduce((a, m) => a + weightBytes(m.ckpt, m.config, scheme(m), m.asF32 && !scheme(m)), 0);
  const need = total((m) => m.scheme);
  const margin = runMargin(need);
  if (need + margin <= have) return;
  const one = models.length === 1 ? models[0]! : null;
  const fits = QUANT_SCHEMES.filter((s) => s !== one?.scheme)
    .map((s) => ({ s, b: total(() => s) }))
    .filter((x) => x.b + runMargin(x.b) <= have)
    .sort((a, b) => b.b - a.b); // the largest (most faithful) scheme that fits first
  const hint =
    fits.length > 0
      ? ` --quantize ${fits[0]!.s} would need ${fmt(fits[0]!.b)}${
          fits.length > 1
            ? `, ${fits
                .slice(1)
                .map((x) => `${x.s} ${fmt(x.b)}`)
                .join(', ')}`
            : ''
        }.`
      : ' No --quantize scheme fits either (q4 is the smallest).';
  if (one) {
    const as = one.scheme ? `quantised with ${one.scheme}` : one.asF32 ? 'in f32' : 'as stored';
    throw new ModelTooLargeError(
      `${one.dir}: the model needs ${fmt(need)} of memory for its weights ${as} (+${fmt(margin)} to run), but only ${fmt(have)} is available.${hint}`,
    );
  }
  const each = models.map((m) => `${m.dir} ${fmt(weightBytes(m.ckpt, m.config, m.scheme, m.asF32))}`).join(', ');
  throw new ModelTooLargeError(
    `the ${models.length} models need ${fmt(need)} of memory together for their weights (${each}; +${fmt(margin)} to run), but only ${fmt(have)} is available.${hint}`,
  );
}
