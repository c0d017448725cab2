/** `dsts export`: launch scripts for vLLM and SGLang serving and a Megatron-LM training config, from a checkpoint and run config. */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from '../command.ts';
import { parse } from '../args.ts';
import { UserError } from '../errors.ts';
import { LAYOUT_USAGE, intFlag, layoutFromFlags, layoutOptions } from '../plan-flags.ts';
import {
  BUILTIN_MODELS,
  checkLayout,
  exportFiles,
  findGpu,
  gpuTable,
  modelShape,
  readRun,
  resolveModel,
  writeExport,
} from '../../plan/index.ts';

const usage = `usage: dsts export --model <checkpoint folder | deepseek-v3-671b> --out <dir> [options]

Writes what engines built for clusters need to carry on from this project's checkpoint:
  serve-vllm.sh       vllm serve with tensor/pipeline/expert parallel sizes for the GPU, and MTP
                      speculative decoding (--speculative-config '{"method": "mtp", …}')
  serve-sglang.sh     sglang.launch_server with --tp/--ep-size and MTP as EAGLE-style drafting
  train-megatron.sh   Megatron-LM pre-training with the same model shape, optimizer, schedule,
                      losses, data (tokenised by Megatron's preprocess_data.py) and layout
  export.json         the layouts these were sized for

model and run:
  --model <m>            a checkpoint folder (config.json, safetensors, tokenizer.json), or
                         deepseek-v3-671b (served from the Hub id deepseek-ai/DeepSeek-V3)
  --run <train.json>     the training run config (optimizer, schedule, data, losses, batch)
  --steps <n>            training steps (default: --run's, else 1000)
  --out <dir>            where to write (existing files are refused unless --force)
  --force                overwrite

serving:
  --gpu <name>           GPU to size for (default h800; see dsts plan --help), --gpus <file> adds more
  --serve-tp <n>         tensor-parallel size (default: the fewest GPUs in a node that hold the weights)
  --serve-pp <n>         pipeline stages (nodes) (default: as many as the weights need)
  --draft-tokens <k>     MTP draft tokens per step (default 1; models with an MTP module)
  --max-model-len <n>    context length served (default the config's max_position_embeddings)

training layout (Megatron-LM):
${LAYOUT_USAGE}`;

const HUB: Record<string, string> = { 'deepseek-v3-671b': 'deepseek-ai/DeepSeek-V3' };

const command: Command = {
  summary: 'write vLLM / SGLang launch scripts and a Megatron-LM training config for a checkpoint',
  usage,
  async run(args) {
    const { values: v } = parse(args, {
      ...layoutOptions,
      steps: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean' },
      'serve-tp': { type: 'string' },
      'serve-pp': { type: 'string' },
      'draft-tokens': { type: 'string' },
      'max-model-len': { type: 'string' },
    });
    if (v.model === undefined) throw new UserError('export: --model <checkpoint folder | deepseek-v3-671b> is required');
    if (v.out === undefined) throw new UserError('export: --out <dir> is required');
    const builtin = v.model in BUILTIN_MODELS;
    if (!builtin && !(existsSync(v.model) && statSync(v.model).isDirectory()))
      throw new UserError(
        `export: --model must be a checkpoint folder or one of ${Object.keys(BUILTIN_MODELS).join(', ')}, got '${v.model}'`,
      );
    const config = resolveModel(v.model);
    const model = builtin ? HUB[v.model]! : resolve(v.model);
    const tokenizer = builtin ? model : existsSync(join(model, 'tokenizer.json')) ? model : '<tokenizer folder>';
    const run = v.run === undefined ? undefined : readRun(v.run);
    const layout = layoutFromFlags(v, config, run);
    checkLayout(layout, config.numHiddenLayers, modelShape(config).experts);
    // Only the flags given: the rest are derived from the plan.
    const serving: Record<string, number> = {};
    for (const [flag, key] of [
      ['serve-tp', 'tp'],
      ['serve-pp', 'pp'],
      ['draft-tokens', 'draftTokens'],
      ['max-model-len', 'maxModelLen'],
    ] as const)
      if (v[flag] !== undefined) serving[key] = intFlag(v[flag], flag, 0);
    const out = exportFiles({
      config,
      model,
      tokenizer,
      run: run?.run ?? null,
      gpu: findGpu(gpuTable(v.gpus), v.gpu ?? 'h800'),
      training: layout,
      steps: intFlag(v.steps, 'steps', run?.steps ?? 1000),
      serving,
    });
    const written = writeExport(v.out, out, v.force === true);
    const s = out.serving;
    console.log(
      `export: serving on ${s.gpus} GPU(s) (tp ${s.tp}, pp ${s.pp}, ep ${s.ep}${s.draftTokens > 0 ? `, MTP ${s.draftTokens} draft token(s)` : ''}); wrote ${written.join(', ')}`,
    );
    return 0;
  },
};

export default command;
