/** A planning input the user can fix (unknown GPU, impossible layout, bad file): one line, exit 1. */
import { UserFacingError } from '../io/errors.ts';

export class PlanError extends UserFacingError {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}
