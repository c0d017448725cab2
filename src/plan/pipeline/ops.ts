/**
 * The operations a pipeline schedule runs on each device, and their costs. A micro-batch `mb` of
 * direction `dir` passes the stages 0 … P−1 forward and back again; direction 0 puts stage s on
 * device s, direction 1 (DualPipe's second pipeline) puts it on device P−1−s.
 *
 * Costs follow DeepSeek's DualPipe table: F a forward chunk, B a *full* backward chunk, W its
 * weight-gradient part (so the input-gradient part alone takes B − W), F&B a forward and a full
 * backward chunk run overlapped, and the point-to-point transfer between neighbouring stages.
 */

export interface Chunk {
  dir: 0 | 1;
  mb: number;
}

export type Op =
  | { kind: 'F'; f: Chunk }
  /** Input-gradient backward only; its W runs later (zero-bubble split). */
  | { kind: 'B'; b: Chunk }
  /** Full backward (input and weight gradients together). */
  | { kind: 'BW'; b: Chunk }
  /** The deferred weight-gradient backward of an earlier B. */
  | { kind: 'W'; b: Chunk }
  /** A forward chunk and a full backward chunk overlapped (DualPipe). */
  | { kind: 'FB'; f: Chunk; b: Chunk };

export interface OpCosts {
  F: number;
  B: number;
  W: number;
  /** Overlapped forward + full backward; default F + B (no gain from the overlap itself). */
  FB?: number;
  /** Point-to-point time between neighbouring stages (default 0). */
  comm?: number;
}

export function duration(op: Op, c: OpCosts): number {
  switch (op.kind) {
    case 'F':
      return c.F;
    case 'B':
      return c.B - c.W;
    case 'BW':
      return c.B;
    case 'W':
      return c.W;
    case 'FB':
      return c.FB ?? c.F + c.B;
  }
}

/** The pipeline stage a device runs for a direction. */
export const stageOf = (device: number, dir: 0 | 1, pp: number) => (dir === 0 ? device : pp - 1 - device);
