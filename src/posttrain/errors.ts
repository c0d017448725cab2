/**
 * Mistakes in a post-training run the user can fix (a bad dataset line, a reward module that throws,
 * a config key of the wrong type): user-facing, so the CLI prints the message alone and exits 1.
 */
import { UserFacingError } from '../io/errors.ts';

export class PosttrainError extends UserFacingError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PosttrainError';
  }
}
