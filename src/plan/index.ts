/**
 * Sizing a run beyond one machine (docs/scale.md): FLOPs, GPU-hours and cost, memory per GPU for a
 * parallel layout, expert-parallel traffic, pipeline schedules simulated and drawn, and the export
 * of launch commands and trainer configs for engines built for clusters.
 */
export { builtinModel, BUILTIN_MODELS, DEEPSEEK_V3_671B_CONFIG } from './builtin-models.ts';
export { modelShape, type ModelShape, type LayerShape } from './shapes.ts';
export { flopsPerToken, layerForwardFlops, type FlopsPerToken, type FlopsOptions, type AttentionCount } from './flops.ts';
export { GPUS, gpuTable, findGpu, peak, type Gpu, type ComputeDtype } from './gpus.ts';
export { gpuHours, impliedMfu, sustainedRate, stagedCost, wallDays, type Stage, type StagedCost } from './cost.ts';
export {
  SCHEDULES,
  RECOMPUTE,
  checkLayout,
  microBatches,
  stageLayers,
  worldSize,
  type Layout,
  type ScheduleName,
  type Recompute,
} from './layout.ts';
export { memoryPlan, activationBytesPerToken, type MemoryPlan, type DeviceMemory } from './memory.ts';
export { allToAll, allReduce, type AllToAll } from './comm.ts';
export { makePlan, type Plan, type PlanInput } from './plan.ts';
export { planTable, planMarkdown, planJson } from './report.ts';
export { resolveModel, readRun, parseCount, type RunFacts } from './inputs.ts';
export { simulate, tableBubble, tableActivations, type Simulation, type Timed } from './pipeline/simulate.ts';
export { oneFOneB, zb1p, dualPipe } from './pipeline/schedules.ts';
export type { Op, OpCosts, Chunk } from './pipeline/ops.ts';
export { scheduleSvg } from './pipeline/svg.ts';
export { DEEPSEEK_V3_REPORT, GPT3, GPT3_CLAIMS } from './published.ts';
export { PlanError } from './errors.ts';
export { exportFiles, writeExport, type ExportInput, type ExportFiles } from './export/write.ts';
export { servingLayout, type ServingLayout } from './export/serving.ts';
export { vllmCommand } from './export/vllm.ts';
export { sglangCommand } from './export/sglang.ts';
export { megatronScript, megatronModelArgs } from './export/megatron.ts';
