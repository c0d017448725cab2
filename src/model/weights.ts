/**
 * Where a model's tensors come from, by their HF names. Inference reads them from a checkpoint in
 * their stored dtype (bf16, fp8 with block scales); training holds f32 leaves that require grad.
 */
import type { Tensor } from '../tensor/index.ts';
import { UserFacingError } from '../io/errors.ts';

export interface Weights {
  /** The tensor named `name`; throws a clear error naming it when absent. */
  get(name: string): Tensor;
  /** The tensor, or undefined (optional biases, tied heads). */
  maybe(name: string): Tensor | undefined;
  names(): string[];
}

/** A user-facing error: the checkpoint, not the program, is incomplete. */
export class MissingWeightError extends UserFacingError {
  constructor(name: string, where: string) {
    super(`tensor '${name}' is missing from ${where}`);
    this.name = 'MissingWeightError';
  }
}

/** Weights held in memory (training, tests, converted checkpoints). */
export class MapWeights implements Weights {
  constructor(
    readonly tensors: Map<string, Tensor>,
    private readonly where = 'the model weights',
  ) {}

  get(name: string): Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new MissingWeightError(name, this.where);
    return t;
  }

  maybe(name: string): Tensor | undefined {
    return this.tensors.get(name);
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }
}
