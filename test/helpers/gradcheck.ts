/**
 * Central finite differences in f64: perturbs every input element by ±h, and compares the numeric
 * derivative of sum(f(inputs) ⊙ probe) with what backward() gives. The random probe makes every
 * output element matter, so a wrong gradient for any of them shows.
 */
import assert from 'node:assert/strict';
import { Tensor, Rng, backward, noGrad, mul, sum, cast } from '../../src/tensor/index.ts';

export interface GradcheckOptions {
  h?: number;
  rtol?: number;
  atol?: number;
  seed?: number;
}

/** f must map f64 tensors to one f64 tensor; inputs are f64 leaves. Throws on mismatch. */
export function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): void {
  const h = opts.h ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-7;
  const rng = new Rng(opts.seed ?? 7);
  const xs = inputs.map((x) => cast(x, 'f64').detach().requireGrad());
  const out0 = noGrad(() => f(...xs));
  const probe = Tensor.randn(out0.shape, rng, 1, 'f64');
  const objective = (...a: Tensor[]) => sum(mul(f(...a), probe));

  const loss = objective(...xs);
  backward(loss);
  xs.forEach((x, n) => {
    const analytic = x.grad ? x.grad.toArray() : new Array<number>(x.size).fill(0);
    const d = x.data as Float64Array;
    for (let i = 0; i < d.length; i++) {
      const orig = d[i]!;
      d[i] = orig + h;
      const up = noGrad(() => objective(...xs)).item();
      d[i] = orig - h;
      const down = noGrad(() => objective(...xs)).item();
      d[i] = orig;
      const numeric = (up - down) / (2 * h);
      const err = Math.abs(numeric - analytic[i]!);
      assert.ok(
        err <= atol + rtol * Math.abs(numeric),
        `input ${n} element ${i}: analytic ${analytic[i]} vs numeric ${numeric} (|err| ${err.toExponential(2)})`,
      );
    }
  });
}

/** A random f64 tensor for checks. */
export function randn(shape: number[], seed = 1, std = 1): Tensor {
  return Tensor.randn(shape, new Rng(seed), std, 'f64');
}
