/**
 * What each `--quantize` scheme costs in quality, on the embedded model and the held-out slice of its
 * own corpus (the documents its training run set aside, by the same hash split): perplexity against
 * the stored bf16 weights, and how often greedy decoding picks the same next token as bf16 (teacher-
 * forced over the same text, so one early difference does not cascade).
 *
 * usage: npm run bench:quant-quality [-- --model models/deepseek-ts-nano --sequences 64 --json]
 * Needs the corpus: node --import tsx scripts/nano/prepare-corpus.ts (fetches chinese-poetry from npm).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadModel } from '../src/model/load.ts';
import { loadTokenizer } from '../src/tokenizer/load.ts';
import { evalSequences, evaluate } from '../src/train/index.ts';
import { listCorpusFiles } from '../src/train/data/files.ts';
import { corpusEncoder } from '../src/train/data/encoder.ts';
import { Tensor, floatData, noGrad } from '../src/tensor/index.ts';
import type { CausalLM } from '../src/model/causal-lm.ts';
import type { QuantScheme } from '../src/kernels/types.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: flags } = parseArgs({
  options: {
    model: { type: 'string', default: join(root, 'models/deepseek-ts-nano') },
    corpus: { type: 'string', default: join(root, '.tmp/nano/corpus.jsonl') },
    sequences: { type: 'string', default: '64' },
    json: { type: 'boolean', default: false },
  },
});
if (!existsSync(flags.corpus!)) {
  console.error(`no corpus at ${flags.corpus}: run node --import tsx scripts/nano/prepare-corpus.ts first`);
  process.exit(1);
}

// The split and packing of the model's own training run.
const run = JSON.parse(readFileSync(join(flags.model!, 'train.json'), 'utf8')) as {
  seqLen: number;
  seed: number;
  data: { valFraction: number };
};
const tokenizer = loadTokenizer(flags.model!);
const encoder = corpusEncoder(tokenizer, null);
const files = listCorpusFiles([flags.corpus!], 'corpus');
const sequences = evalSequences(
  {
    files,
    documents: { textDocuments: 'paragraph', jsonlField: 'text' },
    encoder,
    seqLen: run.seqLen,
    valFraction: run.data.valFraction,
    seed: run.seed,
    take: 'validation',
  },
  Number(flags.sequences),
);

/** Greedy next-token choice at every position of every sequence (teacher-forced). */
function argmaxes(model: CausalLM): Int32Array {
  const Tn = sequences[0]!.length - 1;
  const out = new Int32Array(sequences.length * Tn);
  noGrad(() => {
    sequences.forEach((s, i) => {
      const logits = floatData(model.forward(new Tensor(s.subarray(0, Tn), [1, Tn], 'i32')).logits!);
      const V = logits.length / Tn;
      for (let t = 0; t < Tn; t++) {
        let b = 0;
        for (let v = 1; v < V; v++) if (logits[t * V + v]! > logits[t * V + b]!) b = v;
        out[i * Tn + t] = b;
      }
    });
  });
  return out;
}

const rows: { scheme: string; ppl: number; pplChange: number; agreement: number; weightBytes: number }[] = [];
const base = loadModel(flags.model!);
const baseEval = evaluate(base.model, sequences, 8);
const baseTop = argmaxes(base.model);
for (const scheme of [undefined, 'fp8', 'q8', 'q4'] as (QuantScheme | undefined)[]) {
  const m = scheme ? loadModel(flags.model!, { quantize: scheme }) : base;
  const e = scheme ? evaluate(m.model, sequences, 8) : baseEval;
  const top = scheme ? argmaxes(m.model) : baseTop;
  let same = 0;
  for (let i = 0; i < top.length; i++) if (top[i] === baseTop[i]) same++;
  let bytes = 0;
  for (const name of m.weights.names()) {
    const t = m.weights.get(name);
    bytes += t.data.byteLength + (t.scale?.scaleInv.byteLength ?? 0);
  }
  rows.push({
    scheme: scheme ?? 'bf16 (stored)',
    ppl: e.ppl,
    pplChange: e.ppl / baseEval.ppl - 1,
    agreement: same / top.length,
    weightBytes: bytes,
  });
}

if (flags.json) {
  console.log(JSON.stringify({ model: flags.model, sequences: sequences.length, tokens: baseEval.tokens, rows }, null, 2));
} else {
  console.log(`${flags.model}: ${sequences.length} held-out sequences × ${run.seqLen} tokens (${baseEval.tokens} scored)\n`);
  console.log('| weights | MB | perplexity | change | greedy agreement with bf16 |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.scheme} | ${(r.weightBytes / 1e6).toFixed(2)} | ${r.ppl.toFixed(2)} | ${(100 * r.pplChange).toFixed(2)}% | ${(100 * r.agreement).toFixed(1)}% |`,
    );
  }
}
