/**
 * Published figures the planner is checked against (test/plan/published.test.ts) and that docs/scale.md
 * works through. Numbers as their sources state them; nothing here is derived.
 */

/** DeepSeek-V3 technical report (arXiv 2412.19437), Table 1 and §3.1 / §4. */
export const DEEPSEEK_V3_REPORT = {
  gpu: 'h800',
  clusterGpus: 2048,
  /** Rental price the report assumes, $ per GPU-hour. */
  pricePerGpuHour: 2,
  /** H800 GPU-hours per trillion pre-training tokens ("180K"), i.e. 3.7 days on the cluster. */
  gpuHoursPerTrillionTokens: 180e3,
  daysPerTrillionTokens: 3.7,
  pretrainTokens: 14.8e12,
  /** Pre-training sequence length (context extension then goes to 32K and 128K). */
  seqLen: 4096,
  /** Table 1: GPU-hours by stage. */
  stages: [
    { name: 'pre-training', gpuHours: 2664e3 },
    { name: 'context extension', gpuHours: 119e3 },
    { name: 'post-training', gpuHours: 5e3 },
  ],
  totalGpuHours: 2788e3,
  totalCost: 5.576e6,
  /** §3.2: 16-way pipeline (DualPipe), 64-way expert parallelism over 8 nodes, ZeRO-1 data parallelism. */
  layout: { pp: 16, ep: 64, tp: 1 },
} as const;

/** GPT-3 (Brown et al. 2020, Table D.1 and §2.1). */
export const GPT3 = {
  params: 175e9,
  tokens: 300e9,
  /** Total training compute: 3.14E+23 FLOPs (3.64E+03 petaflop/s-days). */
  flops: 3.14e23,
  petaflopDays: 3.64e3,
} as const;

/**
 * The popular restatements of GPT-3's cost: "355 years on one GPU" (Lambda Labs, 2020: one V100 at
 * 28 TFLOP/s sustained) often retold as "355 years on one A100 at 312 TFLOP/s", and "3,640 A100s
 * for a month". docs/scale.md checks them.
 */
export const GPT3_CLAIMS = { singleGpuYears: 355, a100Peak: 312e12, gpusForAMonth: 3640 } as const;
