/** The SwiGLU feed-forward of every DeepSeek/Llama block: down(silu(gate(x)) ⊙ up(x)). */
import { linear, siluMul, type Tensor } from '../tensor/index.ts';
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
    return linear(siluMul(linear(x, this.gate), linear(x, this.up)), this.down);
  }
}
