/**
 * `dsts export`: the files an engine built for clusters needs to carry on from this project's
 * checkpoint and run config — `serve-vllm.sh`, `serve-sglang.sh`, `train-megatron.sh`, and
 * `export.json` with the layouts they were sized for. Existing files are refused, never overwritten,
 * unless `force`.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConfig } from '../../io/config.ts';
import type { RunConfig } from '../../train/config/run-config.ts';
import type { Gpu } from '../gpus.ts';
import type { Layout } from '../layout.ts';
import { PlanError } from '../errors.ts';
import { megatronScript } from './megatron.ts';
import { servingLayout, type ServingLayout } from './serving.ts';
import { sglangCommand } from './sglang.ts';
import { scriptLine } from './shell.ts';
import { vllmCommand } from './vllm.ts';

export interface ExportInput {
  config: ModelConfig;
  /** What the engines load: a checkpoint folder, or a Hub id for a built-in model. */
  model: string;
  /** Folder holding tokenizer.json (the checkpoint's), or a Hub id. */
  tokenizer: string;
  run: RunConfig | null;
  gpu: Gpu;
  training: Layout;
  steps: number;
  serving?: { tp?: number; pp?: number; draftTokens?: number; maxModelLen?: number };
}

export interface ExportFiles {
  serving: ServingLayout;
  files: Record<string, string>;
}

const script = (title: string, args: string[], note?: string) =>
  [
    '#!/usr/bin/env bash',
    `# ${title}, written by \`dsts export\`.`,
    ...(note === undefined ? [] : [`# ${note}`]),
    'set -euo pipefail',
    scriptLine(args),
    '',
  ].join('\n');

/** The files' contents (nothing written). */
export function exportFiles(x: ExportInput): ExportFiles {
  const serving = servingLayout(x.config, x.gpu, x.serving);
  const where = serving.pp > 1 ? ` on ${serving.pp} nodes` : '';
  const files: Record<string, string> = {
    'serve-vllm.sh': script(
      `vLLM serving of ${x.model}: ${serving.gpus} × ${x.gpu.name}${where}`,
      vllmCommand(x.model, serving),
      serving.pp > 1
        ? 'Multi-node: start a Ray cluster over the nodes first (vLLM multi-node serving), then run this on the head node.'
        : undefined,
    ),
    'serve-sglang.sh': script(
      `SGLang serving of ${x.model}: ${serving.gpus} × ${x.gpu.name}${where}`,
      sglangCommand(x.model, serving),
      serving.pp > 1 ? 'Multi-node: run on every node with NODE_RANK (0 … nodes − 1) and MASTER_ADDR (node 0) set.' : undefined,
    ),
    'train-megatron.sh': megatronScript({
      config: x.config,
      run: x.run,
      layout: x.training,
      steps: x.steps,
      tokenizer: x.tokenizer,
      dataPrefix: 'data/train',
    }),
  };
  files['export.json'] =
    JSON.stringify(
      {
        model: x.model,
        config: x.config.source,
        gpu: x.gpu.name,
        serving,
        training: { ...x.training, steps: x.steps },
        run: x.run?.source ?? null,
      },
      null,
      2,
    ) + '\n';
  return { serving, files };
}

/** Writes the files into `dir` (created if needed); refuses to replace any unless `force`. */
export function writeExport(dir: string, out: ExportFiles, force = false): string[] {
  const paths = Object.keys(out.files).map((f) => join(dir, f));
  if (!force) for (const p of paths) if (existsSync(p)) throw new PlanError(`${p} exists: give --force to overwrite it`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(out.files)) {
    const p = join(dir, name);
    writeFileSync(p, text);
    if (name.endsWith('.sh')) chmodSync(p, 0o755);
  }
  return paths;
}
