/**
 * Counts of speculative decoding, in vLLM's terms: drafts (verification steps that had draft
 * tokens), draft tokens proposed and accepted, and both per draft position — position j is reached
 * only when drafts 0..j−1 were all accepted, so acceptance per position is conditional on the
 * prefix, and accepted / drafts is the mean number of draft tokens a verification keeps.
 */
export class SpeculationCounts {
  /** Verification steps that checked at least one draft token. */
  drafts = 0;
  /** Per draft position: times a draft token was proposed there, and accepted. */
  readonly proposedAt: number[];
  readonly acceptedAt: number[];

  constructor(readonly draftTokens: number) {
    this.proposedAt = new Array<number>(draftTokens).fill(0);
    this.acceptedAt = new Array<number>(draftTokens).fill(0);
  }

  /** One sequence's verification: `proposed` draft tokens, of which the first `accepted` were kept. */
  record(proposed: number, accepted: number): void {
    if (proposed === 0) return;
    this.drafts++;
    for (let j = 0; j < proposed; j++) this.proposedAt[j]!++;
    for (let j = 0; j < accepted; j++) this.acceptedAt[j]!++;
  }

  /** Adds another count's numbers (a step's into a run's). */
  add(o: SpeculationCounts): void {
    this.drafts += o.drafts;
    o.proposedAt.forEach((n, j) => (this.proposedAt[j]! += n));
    o.acceptedAt.forEach((n, j) => (this.acceptedAt[j]! += n));
  }

  get proposed(): number {
    return this.proposedAt.reduce((a, b) => a + b, 0);
  }

  get accepted(): number {
    return this.acceptedAt.reduce((a, b) => a + b, 0);
  }

  /** Of the draft tokens proposed at position j, the fraction accepted (NaN before any). */
  acceptanceAt(j: number): number {
    return this.acceptedAt[j]! / this.proposedAt[j]!;
  }

  /** Draft tokens kept per verification step (so each step emits 1 + this many tokens). */
  get meanAccepted(): number {
    return this.accepted / this.drafts;
  }
}
