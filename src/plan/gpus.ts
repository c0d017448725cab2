/**
 * Accelerators the planner prices and sizes runs for: dense (not 2:4-sparse) tensor-core peaks,
 * memory, and the links a pipeline or expert-parallel step uses. Bandwidths are per GPU and per
 * direction. Users add or override entries with a JSON file (`dsts plan --gpus <file>`): an array of
 * objects with the fields of `Gpu` (a name already in the table replaces it).
 *
 * Sources: NVIDIA's A100, H100/H800, H200 and HGX B200 datasheets; DeepSeek-V3 report §3.1 for the
 * H800 cluster (NVLink 400 GB/s bidirectional on the H800 vs 900 on the H100, 8 × 400 Gb/s
 * InfiniBand NICs per node) and the Fire-Flyer paper (arXiv 2408.14158) for the PCIe A100 nodes
 * (one 200 Gb/s NIC per 8 GPUs there; the table keeps 25 GB/s per GPU as a DGX-style default).
 */
import { readFileSync } from 'node:fs';
import { PlanError } from './errors.ts';

export interface Gpu {
  name: string;
  /** Dense BF16 tensor-core peak, FLOP/s. */
  bf16: number;
  /** Dense FP8 tensor-core peak, FLOP/s (null: no FP8 tensor cores). */
  fp8: number | null;
  /** Memory, bytes. */
  memory: number;
  /** HBM bandwidth, bytes/s. */
  hbm: number;
  /** Scale-up link (NVLink) per direction, bytes/s (PCIe when the GPU has no NVLink switch). */
  nvlink: number;
  /** Scale-out network (InfiniBand / RoCE) per GPU per direction, bytes/s. */
  network: number;
  /** GPUs per node (one NVLink domain). */
  perNode: number;
  note?: string;
}

const T = 1e12;
const GB = 1e9;

export const GPUS: readonly Gpu[] = [
  {
    name: 'a100-pcie',
    bf16: 312 * T,
    fp8: null,
    memory: 80 * GB,
    hbm: 1935 * GB,
    nvlink: 32 * GB,
    network: 25 * GB,
    perNode: 8,
    note: 'PCIe 4.0 x16 between GPUs (Fire-Flyer)',
  },
  { name: 'a100-sxm', bf16: 312 * T, fp8: null, memory: 80 * GB, hbm: 2039 * GB, nvlink: 300 * GB, network: 25 * GB, perNode: 8 },
  {
    name: 'h800',
    bf16: 989 * T,
    fp8: 1979 * T,
    memory: 80 * GB,
    hbm: 3350 * GB,
    nvlink: 200 * GB,
    network: 50 * GB,
    perNode: 8,
    note: 'export H100: NVLink cut to 400 GB/s (DeepSeek-V3 measured ~160 GB/s)',
  },
  { name: 'h100', bf16: 989 * T, fp8: 1979 * T, memory: 80 * GB, hbm: 3350 * GB, nvlink: 450 * GB, network: 50 * GB, perNode: 8 },
  { name: 'h200', bf16: 989 * T, fp8: 1979 * T, memory: 141 * GB, hbm: 4800 * GB, nvlink: 450 * GB, network: 50 * GB, perNode: 8 },
  {
    name: 'b200',
    bf16: 2250 * T,
    fp8: 4500 * T,
    memory: 180 * GB,
    hbm: 7700 * GB,
    nvlink: 900 * GB,
    network: 100 * GB,
    perNode: 8,
    note: 'HGX B200 per-GPU figures',
  },
];

const FIELDS: readonly (keyof Gpu)[] = ['bf16', 'memory', 'hbm', 'nvlink', 'network', 'perNode'];

function checkGpu(v: unknown, where: string): Gpu {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new PlanError(`${where}: each GPU must be a JSON object`);
  const o = v as Record<string, unknown>;
  if (typeof o.name !== 'string' || o.name === '') throw new PlanError(`${where}: 'name' must be a non-empty string`);
  for (const f of FIELDS) {
    const x = o[f];
    if (typeof x !== 'number' || !(x > 0)) throw new PlanError(`${where} (${o.name}): '${f}' must be a positive number`);
  }
  if (o.fp8 !== undefined && o.fp8 !== null && !(typeof o.fp8 === 'number' && o.fp8 > 0))
    throw new PlanError(`${where} (${o.name}): 'fp8' must be a positive number or null`);
  const known = new Set<string>([...FIELDS, 'name', 'fp8', 'note']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new PlanError(`${where} (${o.name}): unknown field '${k}'`);
  return { ...(o as unknown as Gpu), fp8: (o.fp8 as number | null | undefined) ?? null };
}

/** The built-in table, with a user file's entries added (or replacing those of the same name). */
export function gpuTable(userFile?: string): Gpu[] {
  const table = [...GPUS];
  if (userFile === undefined) return table;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(userFile, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PlanError(`${userFile}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (!Array.isArray(json)) throw new PlanError(`${userFile}: must be a JSON array of GPU objects`);
  json.forEach((v, i) => {
    const g = checkGpu(v, `${userFile}[${i}]`);
    const at = table.findIndex((x) => x.name === g.name);
    if (at >= 0) table[at] = g;
    else table.push(g);
  });
  return table;
}

export function findGpu(table: readonly Gpu[], name: string): Gpu {
  const g = table.find((x) => x.name === name.toLowerCase());
  if (g === undefined)
    throw new PlanError(`unknown GPU '${name}' (known: ${table.map((x) => x.name).join(', ')}; add one with --gpus <file>)`);
  return g;
}

export type ComputeDtype = 'bf16' | 'fp8';

/** The peak for the GEMMs' precision (fp8 where the GPU has it). */
export function peak(g: Gpu, dtype: ComputeDtype): number {
  if (dtype === 'fp8') {
    if (g.fp8 === null) throw new PlanError(`${g.name} has no FP8 tensor cores`);
    return g.fp8;
  }
  return g.bf16;
}
