/** The SwiGLU feed-forward of every DeepSeek/Llama block: down(silu(gate(x)) ⊙ up(x)). */
import { siluMul, type Tensor } from '../tensor/index.ts';
import { projection } from './linear.ts';
import type { Weights } from './weights.ts';

export class Mlp {
  readonly gate: Tensor;
  readonly up: Tensor;
  readonly down: Tensor;

  constructor(w: Weights, prefix: string) {
    this.gate = w.get(`${prefix}.gate_proj.weight`);
    this.up = w.get(`${prefix}.up_proj.weight`);
    this.down = w.get(`${prefix}.down_proj.weight`);
  }

  forward(x: Tensor): Tensor {
    return projection(siluMul(projection(x, this.gate), projection(x, this.up)), this.down);
  }
}
