/** `dsts quantize`: write a quantised copy of a checkpoint folder. */
import type { Command } from '../command.ts';
import { parse, quantizeFlag } from '../args.ts';
import { UserError } from '../errors.ts';
import { quantizeCheckpoint } from '../../model/quantize-checkpoint.ts';
import { SCHEME_LABEL } from '../../model/quantize.ts';

const usage = `usage: dsts quantize --model <dir> --out <dir> --scheme <q8|q4|fp8>

Writes a copy of the checkpoint in <dir> with its block projections (attention, MLP, experts) and
output head quantised; embedding, norms and the MoE router stay as stored. Tokenizer and generation
config are copied. The source is read tensor by tensor, never whole.

schemes:
  fp8   e4m3 weights with F32 weight_scale_inv per 128×128 block and quantization_config
        {quant_method: "fp8"}: DeepSeek-V3's released layout, which transformers and vLLM load
  q8    int8, one scale per 1×32 block (deepseek-ts layout)
  q4    int4, one scale per 1×32 block (deepseek-ts layout)

options:
  --model <dir>    the checkpoint to quantise (bf16, f16 or f32)
  --out <dir>      where to write (must not exist, or be empty)
  --scheme <s>     q8, q4 or fp8`;

const command: Command = {
  summary: 'write a quantised copy of a checkpoint (fp8 in the DeepSeek-V3 layout, q8, q4)',
  usage,
  async run(args) {
    const { values: v } = parse(args, { model: { type: 'string' }, out: { type: 'string' }, scheme: { type: 'string' } });
    if (v.model === undefined) throw new UserError('quantize: --model <dir> is required');
    if (v.out === undefined) throw new UserError('quantize: --out <dir> is required');
    if (v.scheme === undefined) throw new UserError('quantize: --scheme <q8|q4|fp8> is required');
    const scheme = quantizeFlag(v.scheme, 'scheme')!;
    const t0 = performance.now();
    let last = 0;
    const r = quantizeCheckpoint(v.model, v.out, scheme, (p) => {
      const now = performance.now();
      if (process.stderr.isTTY && (now - last > 200 || p.done === p.total)) {
        process.stderr.write(`\rquantize: ${p.done}/${p.total} tensors`);
        last = now;
      }
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;
    console.log(
      `quantize: ${r.quantized} of ${r.tensors} tensors as ${SCHEME_LABEL[scheme]}; ${gb(r.bytesIn)} → ${gb(r.bytesOut)} in ${((performance.now() - t0) / 1000).toFixed(1)} s; wrote ${v.out}`,
    );
    return 0;
  },
};

export default command;
