/**
 * Reverse-mode automatic differentiation on a tape. Each op that runs with grad enabled and at least
 * one input requiring grad attaches a GradFn (its inputs and a closure mapping the output's gradient
 * to the inputs' gradients). `backward` walks the graph in reverse topological order; gradients of
 * leaves accumulate into `.grad` across calls (gradient accumulation), interior ones are freed.
 */
import { Tensor } from './tensor.ts';
import { sameShape, formatShape } from './shape.ts';
import { add } from './ops/elementwise.ts';

export interface GradFn {
  op: string;
  inputs: Tensor[];
  /** Gradients for each input (null where an input needs none), computed under noGrad. */
  backward(gradOut: Tensor): (Tensor | null)[];
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording: no graph, no saved activations (inference, optimiser updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Attaches the op to `out` when any input needs a gradient; returns `out`. */
export function record(out: Tensor, op: string, inputs: Tensor[], backward: (gradOut: Tensor) => (Tensor | null)[]): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.gradFn = { op, inputs, backward };
  }
  return out;
}

/** Sums two gradients of the same shape into a new tensor. */
function accumulate(a: Tensor, b: Tensor): Tensor {
  if (!sameShape(a.shape, b.shape)) throw new Error(`gradient shape ${formatShape(b.shape)} does not match ${formatShape(a.shape)}`);
  return add(a, b);
}

/**
 * Back-propagates from `root` (a scalar unless `gradOut` is given). Leaves receive `.grad`;
 * the graph below root is released unless `retainGraph`.
 */
export function backward(root: Tensor, gradOut?: Tensor, retainGraph = false): void {
  if (!root.requiresGrad) throw new Error('backward() on a tensor that does not require grad');
  if (!gradOut) {
    if (root.size !== 1) throw new Error(`backward() needs gradOut for non-scalar shape ${formatShape(root.shape)}`);
    gradOut = Tensor.full(root.shape, 1, root.dtype === 'f64' ? 'f64' : 'f32');
  }
  // Topological order by iterative DFS (deep graphs must not overflow the JS stack).
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.gradFn?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i]!;
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  const grads = new Map<Tensor, Tensor>([[root, gradOut]]);
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    for (let n = order.length - 1; n >= 0; n--) {
      const t = order[n]!;
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      const fn = t.gradFn;
      if (!fn) {
        t.grad = t.grad ? accumulate(t.grad, g) : g;
        continue;
      }
      const inGrads = fn.backward(g);
      fn.inputs.forEach((input, k) => {
        const ig = inGrads[k];
        if (!ig || !input.requiresGrad) return;
        if (!sameShape(ig.shape, input.shape)) {
          throw new Error(`${fn.op} backward gave shape ${formatShape(ig.shape)} for input ${formatShape(input.shape)}`);
        }
        const acc = grads.get(input);
        grads.set(input, acc ? accumulate(acc, ig) : ig);
      });
      if (!retainGraph) t.gradFn = null;
    }
  } finally {
    gradEnabled = prev;
  }
}
