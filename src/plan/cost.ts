/**
 * Compute → time → money. GPU-hours for a FLOP budget at a model-FLOPs utilisation (MFU), the MFU a
 * reported GPU-hour figure implies, and a cost over stages (DeepSeek-V3's Table 1 is such a sum).
 */
const HOUR = 3600;

/** GPU-hours to do `flops` on GPUs of peak `peak` FLOP/s at utilisation `mfu` (0..1]. */
export function gpuHours(flops: number, peak: number, mfu: number): number {
  if (!(mfu > 0 && mfu <= 1)) throw new RangeError(`MFU must be in (0, 1], got ${mfu}`);
  return flops / (peak * mfu) / HOUR;
}

/** The MFU that doing `flops` in `hours` GPU-hours on `peak` FLOP/s GPUs implies. */
export function impliedMfu(flops: number, hours: number, peak: number): number {
  return flops / (hours * HOUR * peak);
}

/** Sustained FLOP/s per GPU that `flops` in `hours` GPU-hours means. */
export function sustainedRate(flops: number, hours: number): number {
  return flops / (hours * HOUR);
}

export interface Stage {
  name: string;
  gpuHours: number;
}

export interface StagedCost {
  stages: (Stage & { cost: number })[];
  gpuHours: number;
  cost: number;
}

/** Costs stages at `pricePerGpuHour`, and their total. */
export function stagedCost(stages: readonly Stage[], pricePerGpuHour: number): StagedCost {
  const rows = stages.map((s) => ({ ...s, cost: s.gpuHours * pricePerGpuHour }));
  const gpuHours = rows.reduce((a, s) => a + s.gpuHours, 0);
  return { stages: rows, gpuHours, cost: gpuHours * pricePerGpuHour };
}

/** Wall-clock days for `hours` GPU-hours spread over `gpus` GPUs. */
export function wallDays(hours: number, gpus: number): number {
  return hours / gpus / 24;
}
