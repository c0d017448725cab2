/** Fused softmax cross-entropy: one pass gives the loss and, when needed, d loss / d logits. */
import { Tensor } from '../tensor.ts';
import { record, isGradEnabled } from '../autograd.ts';
import { formatShape } from '../shape.ts';
import { getKernels } from '../../kernels/index.ts';
import { allocFloat, floatData, rowMajor } from './strided.ts';

/**
 * Mean cross-entropy of logits [..., V] against integer targets [...], skipping targets equal to
 * `ignoreIndex` (as PyTorch: the mean is over the counted rows; NaN when none count).
 */
export function crossEntropy(logits: Tensor, targets: Tensor, ignoreIndex = -100): Tensor {
  const V = logits.shape[logits.rank - 1]!;
  const rows = logits.size / V;
  if (targets.size !== rows)
    throw new Error(`crossEntropy: ${rows} rows of logits ${formatShape(logits.shape)} but ${targets.size} targets`);
  if (targets.dtype !== 'i32') throw new Error(`crossEntropy targets must be i32, got ${targets.dtype}`);
  const tg = rowMajor(targets) as Int32Array;
  let count = 0;
  for (let i = 0; i < rows; i++) {
    const t = tg[i]!;
    if (t === ignoreIndex) continue;
    if (t < 0 || t >= V) throw new Error(`crossEntropy: target ${t} outside the vocabulary of ${V}`);
    count++;
  }
  const x = floatData(logits);
  const want = logits.requiresGrad && isGradEnabled();
  const dLogits = want ? allocFloat(logits.dtype, x.length) : undefined;
  const r = getKernels().crossEntropy(x, tg, rows, V, ignoreIndex, dLogits, count > 0 ? 1 / count : 0);
  const dtype = logits.dtype === 'f64' ? 'f64' : 'f32';
  const out = Tensor.from([r.loss / count], [], dtype);
  return record(out, 'crossEntropy', [logits], (g) => {
    const s = g.item();
    // the usual case: the loss is the root, so its gradient is 1 and dLogits is already the answer
    if (s === 1) return [new Tensor(dLogits!, logits.shape, dtype)];
    const d = allocFloat(dtype, x.length);
    for (let i = 0; i < d.length; i++) d[i] = dLogits![i]! * s;
    return [new Tensor(d, logits.shape, dtype)];
  });
}
