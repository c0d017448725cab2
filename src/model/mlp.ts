/** The SwiGLU feed-forward of every DeepSeek/Llama block: down(silu(gate(x)) ⊙ up(x)). */
import { siluMul, type Tensor } from '../tensor/index.ts';
import { projection } from './linear.ts';
import type { Weights } from './weights.ts';
import { bias as biasDecl, matrix, readGroup, type ParamDecl, type Part } from './declare.ts';

export interface MlpParams {
  readonly gate: ParamDecl;
  readonly up: ParamDecl;
  readonly down: ParamDecl;
  /** Only with `mlp_bias: true` (some Llama variants). */
  readonly gateBias?: ParamDecl;
  readonly upBias?: ParamDecl;
  readonly downBias?: ParamDecl;
}

/** gate/up [inter, hidden], down [hidden, inter]; `expert` tags a routed expert for counting. */
export function mlpParams(
  prefix: string,
  hidden: number,
  inter: number,
  part: Part,
  opts: { bias?: boolean; expert?: number } = {},
): MlpParams {
  const { bias = false, expert } = opts;
  const p = (n: string) => `${prefix}.${n}_proj`;
  return {
    gate: matrix(`${p('gate')}.weight`, inter, hidden, part, expert),
    up: matrix(`${p('up')}.weight`, inter, hidden, part, expert),
    down: matrix(`${p('down')}.weight`, hidden, inter, part, expert),
    ...(bias
      ? {
          gateBias: biasDecl(`${p('gate')}.bias`, inter, part, expert),
          upBias: biasDecl(`${p('up')}.bias`, inter, part, expert),
          downBias: biasDecl(`${p('down')}.bias`, hidden, part, expert),
        }
      : {}),
  };
}

export class Mlp {
  readonly gate: Tensor;
  readonly up: Tensor;
  readonly down: Tensor;
  private readonly gateBias?: Tensor;
  private readonly upBias?: Tensor;
  private readonly downBias?: Tensor;

  constructor(w: Weights, params: MlpParams) {
    const t = readGroup(w, params);
    this.gate = t.gate;
    this.up = t.up;
    this.down = t.down;
    this.gateBias = t.gateBias;
    this.upBias = t.upBias;
    this.downBias = t.downBias;
  }

  forward(x: Tensor): Tensor {
    const hidden = siluMul(projection(x, this.gate, this.gateBias), projection(x, this.up, this.upBias));
    return projection(hidden, this.down, this.downBias);
  }
}
