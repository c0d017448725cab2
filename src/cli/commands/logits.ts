/** `dsts logits`: the model's logits for a list of token ids, written to a safetensors file. */
import { existsSync } from 'node:fs';
import type { Command } from '../command.ts';
import { parse, quantizeFlag, quantizeOption, QUANTIZE_USAGE } from '../args.ts';
import { UserError } from '../errors.ts';
import { loadModel } from '../../model/load.ts';
import { Tensor, noGrad, floatData } from '../../tensor/index.ts';
import { writeSafetensors } from '../../io/safetensors/index.ts';
import { parseIds } from './generate.ts';

const usage = `usage: dsts logits --model <dir> --ids <list> --out <file.safetensors> [--force]

Runs one forward pass over the ids (no cache) and writes tensor 'logits' [T, V] (F32): row t is the
model's prediction for the token after ids[t].

options:
  --model <dir>   checkpoint folder (config.json + safetensors)
  --ids <list>    token ids, e.g. 1,2,3
  --out <file>    where to write (refuses an existing file unless --force)
  --force         overwrite --out if it exists
${QUANTIZE_USAGE}`;

const command: Command = {
  summary: 'write the logits of a list of token ids to a safetensors file',
  usage,
  async run(args) {
    const { values: v } = parse(args, {
      model: { type: 'string' },
      ids: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean' },
      ...quantizeOption,
    });
    if (v.model === undefined) throw new UserError('logits: --model <dir> is required');
    if (v.ids === undefined) throw new UserError('logits: --ids <list> is required');
    if (v.out === undefined) throw new UserError('logits: --out <file.safetensors> is required');
    if (existsSync(v.out) && !v.force) throw new UserError(`logits: ${v.out} exists (pass --force to overwrite it)`);
    const ids = parseIds(v.ids);
    const { model } = loadModel(v.model, { quantize: quantizeFlag(v.quantize) });
    const V = model.vocabSize;
    const bad = ids.find((id) => id >= V);
    if (bad !== undefined) throw new UserError(`logits: token id ${bad} is outside the model's vocabulary (0..${V - 1})`);
    const logits = noGrad(() => model.forward(Tensor.from(ids, [1, ids.length], 'i32')).logits!);
    const data = Float32Array.from(floatData(logits));
    writeSafetensors(v.out, { logits: { dtype: 'F32', shape: [ids.length, V], data } }, { format: 'pt' });
    console.error(`wrote logits [${ids.length}, ${V}] to ${v.out}`);
    return 0;
  },
};

export default command;
