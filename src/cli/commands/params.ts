/** `dsts params`: parameter counts of a model from its config.json (no weights needed). */
import type { Command } from '../command.ts';
import { parse } from '../args.ts';
import { UserError } from '../errors.ts';
import { loadConfig } from '../../io/config.ts';
import { countParams, type ParamCounts } from '../../model/params.ts';

const usage = `usage: dsts params --config <config.json | model folder> [--json]

Counts a model's parameters from its HF config.json:
  total        nn parameters as transformers counts them (no MTP module, no buffers)
  bias         router e_score_correction_bias entries (stored, but buffers in transformers)
  activated    parameters one token uses (embedding and head, shared + top-k routed experts)
  mtp          multi-token-prediction modules, besides the embedding and head they share

options:
  --config <path>  config.json, or a folder holding one
  --json           print one JSON object instead of a table`;

const fmt = (n: number) => n.toLocaleString('en-US');
const approx = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(n);

function table(path: string, p: ParamCounts): string {
  const rows: [string, number, string][] = [
    ['total parameters', p.total, "transformers' count: no MTP, no buffers"],
    ['correction-bias entries', p.correctionBias, 'router e_score_correction_bias'],
    ['activated per token', p.activated, 'incl. embedding, head, router'],
    ['MTP modules', p.mtp, 'besides the shared embedding and head'],
  ];
  const b = p.breakdown;
  const parts: [string, number][] = [
    ['embedding', b.embedding],
    ['lm head', b.lmHead],
    ['attention', b.attention],
    ['norms', b.norms],
    ['dense FFN', b.denseMlp],
    ['shared experts', b.sharedExperts],
    ['routed experts', b.routedExperts],
    ['router gates', b.router],
  ];
  const width = Math.max(...rows.map((r) => fmt(r[1]).length));
  const lines = [`${p.modelType}  ${path}`, ''];
  for (const [name, n, note] of rows) lines.push(`  ${name.padEnd(24)} ${fmt(n).padStart(width)}  ${approx(n).padStart(8)}   ${note}`);
  lines.push('', '  of the total:');
  for (const [name, n] of parts) lines.push(`    ${name.padEnd(22)} ${fmt(n).padStart(width)}  ${approx(n).padStart(8)}`);
  return lines.join('\n');
}

const command: Command = {
  summary: 'count parameters (total, activated, MTP) from a config.json',
  usage,
  async run(args) {
    const { values } = parse(args, { config: { type: 'string' }, json: { type: 'boolean' } });
    if (values.config === undefined) throw new UserError('params: --config <config.json | model folder> is required');
    const config = loadConfig(values.config);
    const counts = countParams(config);
    console.log(values.json === true ? JSON.stringify({ config: config.source, ...counts }) : table(config.source, counts));
    return 0;
  },
};

export default command;
