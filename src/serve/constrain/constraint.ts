/**
 * A token constraint for one sequence: grammar segments (segments.ts) run in order, each given the
 * token budget left after reserving what the later segments need at least. The scheduler asks it,
 * step by step (through the decoding loop's constraint hook), for a forced token or which tokens are
 * allowed, and ends the sequence when it is done.
 */
import type { TokenConstraint } from '../../generate/index.ts';
import type { Segment } from './segments.ts';

/** The hook a constraint plugs into the decoding loop (defined by src/generate). */
export type { TokenConstraint };

export class ConstraintChain implements TokenConstraint {
  private at = 0;

  constructor(private readonly segments: readonly Segment[]) {
    this.skipDone();
  }

  private skipDone(): void {
    while (this.at < this.segments.length && this.segments[this.at]!.done) this.at++;
  }

  get done(): boolean {
    return this.at >= this.segments.length;
  }

  get filters(): boolean {
    return !this.done && this.segments[this.at]!.filters;
  }

  /** The budget of the current segment: the total less what the later ones need. */
  private own(budget: number): number {
    let reserve = 0;
    for (let i = this.at + 1; i < this.segments.length; i++) reserve += this.segments[i]!.minTokens();
    return budget - reserve;
  }

  forced(budget: number): number | null {
    return this.done ? null : this.segments[this.at]!.forced(this.own(budget));
  }

  allows(id: number, budget: number): boolean {
    return !this.done && this.segments[this.at]!.allows(id, this.own(budget));
  }

  minTokens(): number {
    let n = 0;
    for (let i = this.at; i < this.segments.length; i++) n += this.segments[i]!.minTokens();
    return n;
  }

  accept(id: number): void {
    if (this.done) return;
    this.segments[this.at]!.accept(id);
    this.skipDone();
  }
}
