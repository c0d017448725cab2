/**
 * One plan: a model, a token budget, a GPU and a parallel layout in; parameters, FLOPs, GPU-hours and
 * cost, memory per GPU, expert-parallel traffic and the simulated pipeline schedule out. Every number
 * comes from the modules beside this one; this file only wires them together (report.ts prints it).
 */
import type { ModelConfig } from '../io/config.ts';
import { countParams, type ParamCounts } from '../model/params.ts';
import { allReduce, allToAll, type AllToAll } from './comm.ts';
import { gpuHours, impliedMfu, wallDays } from './cost.ts';
import { flopsPerToken, layerForwardFlops, type AttentionCount, type FlopsPerToken } from './flops.ts';
import { peak as peakOf, type Gpu } from './gpus.ts';
import { checkLayout, microBatches, worldSize, type Layout } from './layout.ts';
import { memoryPlan, stageContents, type MemoryPlan } from './memory.ts';
import type { OpCosts } from './pipeline/ops.ts';
import { simulate, tableBubble, type Simulation } from './pipeline/simulate.ts';
import { modelShape, mainLayers, type ModelShape } from './shapes.ts';
import { PlanError } from './errors.ts';

export interface PlanInput {
  config: ModelConfig;
  layout: Layout;
  gpu: Gpu;
  /** Training tokens of the run. */
  tokens: number;
  /** Where the token count came from, when it was not given (printed beside it). */
  tokensNote?: string;
  /** $ per GPU-hour. */
  price: number;
  /** Model-FLOPs utilisation; absent: derived from the simulated step (`efficiency` × busy share). */
  mfu?: number;
  /** Share of peak the GEMMs reach while busy, for the derived MFU (default 0.5). */
  efficiency?: number;
  /** GPU-hours a run reported: the plan then also states the MFU they imply. */
  reportedGpuHours?: number;
  attention?: AttentionCount;
}

export interface PipelinePlan {
  /** Per micro-batch on the heaviest stage, seconds: compute and EP communication of F, B, W. */
  compute: { F: number; B: number; W: number };
  expertComm: { F: number; B: number };
  costs: OpCosts;
  simulation: Simulation;
  /** The DualPipe table's closed form for the same costs. */
  tableBubble: number;
  /** Share of the step the busiest device computes (model work only). */
  busy: number;
}

export interface Plan {
  model: { source: string; modelType: string; layers: number };
  params: ParamCounts;
  flopsPerToken: FlopsPerToken;
  tokens: number;
  tokensNote: string | null;
  trainingFlops: number;
  gpu: Gpu;
  peak: number;
  mfu: { value: number; how: 'given' | 'derived' };
  impliedMfu: number | null;
  gpuHours: number;
  cost: number;
  price: number;
  world: number;
  wallDays: number;
  layout: Layout;
  microBatches: number;
  /** `fp8Saving`: activation bytes FP8 caching saves on the heaviest device (against bf16). */
  memory: MemoryPlan & { fits: boolean; fp8Saving: number };
  expertParallel:
    (AllToAll & { perStep: { networkBytes: number; nvlinkBytes: number; commSeconds: number; computeSeconds: number } }) | null;
  dataParallel: { bytes: number; seconds: number };
  pipeline: PipelinePlan;
}

/** Seconds of forward compute and EP communication for one micro-batch on each stage. */
function stageTimes(s: ModelShape, l: Layout, peak: number, efficiency: number, a2a: AllToAll | null) {
  const tokens = (l.microBatch * l.seqLen) / l.tp;
  return stageContents(s, l.pp).map((st, i) => {
    let flops = st.layers.reduce((a, x) => a + layerForwardFlops(s, x.index, l.seqLen), 0);
    if (i === l.pp - 1) flops += 2 * s.headMatmul * (1 + new Set(st.layers.filter((x) => x.mtp !== null).map((x) => x.mtp)).size);
    const moe = st.layers.filter((x) => x.moe).length;
    return {
      F: (tokens * flops) / (peak * efficiency),
      commF: a2a === null ? 0 : moe * a2a.commForward,
      commB: a2a === null ? 0 : moe * a2a.commBackward,
    };
  });
}

export function makePlan(p: PlanInput): Plan {
  const c = p.config;
  const l = p.layout;
  const s = modelShape(c);
  const experts = s.experts;
  checkLayout(l, mainLayers(s).length, experts);
  if (!(p.tokens > 0)) throw new PlanError(`the token budget must be positive, got ${p.tokens}`);
  if (p.mfu !== undefined && !(p.mfu > 0 && p.mfu <= 1)) throw new PlanError(`--mfu must be in (0, 1], got ${p.mfu}`);
  const efficiency = p.efficiency ?? 0.5;
  const peak = peakOf(p.gpu, l.compute);
  const params = countParams(c);
  const fpt = flopsPerToken(s, { seqLen: l.seqLen, attention: p.attention ?? 'causal' });
  const trainingFlops = fpt.total * p.tokens;
  const m = microBatches(l);

  // The pipeline: the heaviest stage's times, EP communication exposed except where DualPipe overlaps it.
  const a2aEff = allToAll(s, l, p.gpu, peak, efficiency);
  const times = stageTimes(s, l, peak, efficiency, a2aEff);
  const worst = times.reduce((a, b) => (b.F + b.commF > a.F + a.commF ? b : a));
  const Fc = worst.F;
  const compute = { F: Fc, B: 2 * Fc, W: Fc };
  const expertComm = { F: worst.commF, B: worst.commB };
  const p2p = ((l.microBatch * l.seqLen) / l.tp) * c.hiddenSize * 2;
  const link = l.pp > 1 ? p.gpu.network : Infinity;
  // B is the full backward (2F of compute, W = F of it the weight part); DualPipe's overlapped pair hides
  // one chunk's all-to-all behind the other's compute.
  const costs: OpCosts = {
    F: Fc + worst.commF,
    B: 2 * Fc + worst.commB,
    W: Fc,
    comm: p2p / link,
    ...(l.schedule === 'dualpipe' ? { FB: Math.max(3 * Fc, worst.commF + worst.commB) } : {}),
  };
  const simulation = simulate(l.schedule, l.pp, m, costs);
  const busy = (m * 3 * Fc) / simulation.makespan;
  const mfu = p.mfu !== undefined ? { value: p.mfu, how: 'given' as const } : { value: efficiency * busy, how: 'derived' as const };

  const hours = gpuHours(trainingFlops, peak, mfu.value);
  const world = worldSize(l);
  const memory = memoryPlan(s, l, simulation.peakActivations);
  const other = memoryPlan(s, { ...l, compute: l.compute === 'fp8' ? 'bf16' : 'fp8' }, simulation.peakActivations).devices[
    memory.peak.device
  ]!;
  const fp8Saving = Math.abs(other.activations - memory.peak.activations);
  const a2a = allToAll(s, l, p.gpu, peak, mfu.value);
  const moeLayers = (st: number) => stageContents(s, l.pp)[st]!.layers.filter((x) => x.moe).length;
  const heaviest = Math.max(...memory.peak.stages.map(moeLayers));
  const expertParallel =
    a2a === null
      ? null
      : {
          ...a2a,
          perStep: {
            networkBytes: m * heaviest * (a2a.networkForward + a2a.networkBackward),
            nvlinkBytes: m * heaviest * (a2a.nvlinkForward + a2a.nvlinkBackward),
            commSeconds: m * heaviest * (a2a.commForward + a2a.commBackward),
            computeSeconds: m * heaviest * (a2a.computeForward + a2a.computeBackward),
          },
        };
  // Gradients of the dense parameters all-reduced in bf16 across DP (experts' over fewer ranks; the dense part dominates the time).
  const dataParallel = allReduce(2 * memory.peak.denseParams, l.dp, p.gpu.network);
  return {
    model: { source: c.source, modelType: c.modelType, layers: c.numHiddenLayers },
    params,
    flopsPerToken: fpt,
    tokens: p.tokens,
    tokensNote: p.tokensNote ?? null,
    trainingFlops,
    gpu: p.gpu,
    peak,
    mfu,
    impliedMfu: p.reportedGpuHours === undefined ? null : impliedMfu(trainingFlops, p.reportedGpuHours, peak),
    gpuHours: hours,
    cost: hours * p.price,
    price: p.price,
    world,
    wallDays: wallDays(hours, world),
    layout: l,
    microBatches: m,
    memory: { ...memory, fits: memory.peak.total <= p.gpu.memory, fp8Saving },
    expertParallel,
    dataParallel,
    pipeline: { compute, expertComm, costs, simulation, tableBubble: tableBubble(l.schedule, l.pp, costs), busy },
  };
}
