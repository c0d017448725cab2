/** The SwiGLU feed-forward of every DeepSeek/Llama block: down(silu(gate(x)) ⊙ up(x)). */
import { siluMul, type Tensor } from '../tensor/index.ts';
import { projection } from './linear.ts';
import type { Weights } from './weights.ts';

export class Mlp {
  readonly gate: Tensor;
  readonly up: Tensor;
  readonly down: Tensor;
  /** Present only in checkpoints with `mlp_bias: true` (some Llama variants). */
  private readonly gateBias?: Tensor;
  private readonly upBias?: Tensor;
  private readonly downBias?: Tensor;

  constructor(w: Weights, prefix: string) {
    this.gate = w.get(`${prefix}.gate_proj.weight`);
    this.up = w.get(`${prefix}.up_proj.weight`);
    this.down = w.get(`${prefix}.down_proj.weight`);
    this.gateBias = w.maybe(`${prefix}.gate_proj.bias`);
    this.upBias = w.maybe(`${prefix}.up_proj.bias`);
    this.downBias = w.maybe(`${prefix}.down_proj.bias`);
  }

  forward(x: Tensor): Tensor {
    const hidden = siluMul(projection(x, this.gate, this.gateBias), projection(x, this.up, this.upBias));
    return projection(hidden, this.down, this.downBias);
  }
}
