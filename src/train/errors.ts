/**
 * Mistakes in a training run the user can fix: a bad run-config key, a corpus that is missing or too
 * small, an output folder that holds another run. They extend the I/O layer's UserFacingError, so the
 * CLI prints the message alone (one line, exit 1) without the training library knowing about the CLI.
 */
import { UserFacingError } from '../io/errors.ts';

export class TrainError extends UserFacingError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TrainError';
  }
}
