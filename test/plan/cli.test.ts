// `dsts plan` and `dsts export` end to end: every model the project ships or keeps as a fixture, the
// built-in 671B config, the files they write (and refuse to overwrite), and one-line user errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countParams } from '../../src/model/params.ts';
import { builtinModel } from '../../src/plan/index.ts';
import { loadConfig } from '../../src/io/config.ts';
import { fixtureModels, requireShared } from '../helpers/shared.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
function dsts(...args: string[]) {
  const r = spawnSync(process.execPath, [join(repo, 'bin', 'dsts.js'), ...args], { encoding: 'utf8', cwd: repo });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('dsts plan --json for the nano model, every fixture model and the built-in 671B', () => {
  const models = [join(repo, 'models', 'deepseek-ts-nano'), ...fixtureModels.map((m) => requireShared('fixtures', 'models', m))];
  for (const m of models) {
    const r = dsts('plan', '--model', m, '--seq-len', '32', '--tokens', '1e9', '--json');
    assert.equal(r.code, 0, `${m}: ${r.stderr}`);
    const p = JSON.parse(r.stdout) as { params: { total: number }; trainingFlops: number; flopsPerToken: { total: number } };
    assert.equal(p.params.total, countParams(loadConfig(m)).total, m);
    assert.equal(p.trainingFlops, p.flopsPerToken.total * 1e9);
  }
  const r = dsts(
    'plan',
    '--model',
    'deepseek-v3-671b',
    '--pp',
    '16',
    '--dp',
    '128',
    '--ep',
    '64',
    '--global-batch',
    '15360',
    '--schedule',
    'dualpipe',
    '--precision',
    'fp8',
    '--moments',
    'bf16',
    '--tokens',
    '14.8T',
    '--gpu-hours',
    '2664e3',
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  const p = JSON.parse(r.stdout) as {
    params: { total: number };
    impliedMfu: number;
    world: number;
    pipeline: { simulation: { peakActivations: number[]; devices?: unknown } };
  };
  assert.equal(p.params.total, countParams(builtinModel('deepseek-v3-671b')!).total);
  assert.equal(p.world, 2048);
  assert.ok(p.impliedMfu > 0.18 && p.impliedMfu < 0.22);
  assert.equal(Math.max(...p.pipeline.simulation.peakActivations), 17);
  assert.equal(p.pipeline.simulation.devices, undefined, 'the per-operation timeline stays out of the JSON');
});

test('dsts plan with a training run config takes its batch, length and tokens; writes Markdown and SVG, refuses to overwrite them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsts-plan-'));
  try {
    const md = join(dir, 'plan.md');
    const svg = join(dir, 'schedule.svg');
    const run = join(repo, 'models', 'deepseek-ts-nano', 'train.json');
    const r = dsts(
      'plan',
      '--run',
      run,
      '--pp',
      '2',
      '--micro-batch',
      '4',
      '--schedule',
      'zb1p',
      '--gpu',
      'a100-pcie',
      '--markdown',
      md,
      '--svg',
      svg,
    );
    assert.equal(r.code, 0, r.stderr);
    const cfg = JSON.parse(readFileSync(run, 'utf8')) as { seqLen: number; batchSize: number; steps: number };
    assert.ok(r.stdout.includes(`context ${cfg.seqLen},`), r.stdout);
    assert.ok(r.stdout.includes(`${((cfg.seqLen * cfg.batchSize * cfg.steps) / 1e6).toPrecision(4)} M`), 'tokens = steps × batch × seqLen');
    assert.ok(readFileSync(md, 'utf8').startsWith('# Training plan'));
    assert.ok(readFileSync(md, 'utf8').includes('](' + svg + ')'));
    assert.ok(readFileSync(svg, 'utf8').startsWith('<svg'));
    const again = dsts('plan', '--run', run, '--svg', svg);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `dsts: ${svg} exists: give --force to overwrite it\n`);
    assert.equal(dsts('plan', '--run', run, '--svg', svg, '--force').code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dsts plan: a user GPU file extends the table; bad input is one line and exit 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsts-plan-'));
  try {
    const gpus = join(dir, 'gpus.json');
    writeFileSync(
      gpus,
      JSON.stringify([
        { name: 'mi300x', bf16: 1307e12, fp8: 2615e12, memory: 192e9, hbm: 5.3e12, nvlink: 448e9, network: 50e9, perNode: 8 },
      ]),
    );
    const r = dsts('plan', '--model', 'deepseek-v3-671b', '--gpus', gpus, '--gpu', 'mi300x', '--mfu', '0.3', '--tokens', '1T');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes('cost (mi300x, bf16 peak 1.307 PFLOP/s)'), r.stdout);
    const cases: [string[], RegExp][] = [
      [['--model', 'deepseek-v3-671b', '--gpu', 'tpu'], /^dsts: unknown GPU 'tpu' \(known: .*mi300x/],
      [['--model', 'deepseek-v3-671b', '--ep', '3', '--dp', '3'], /^dsts: layout: ep \(3\) must divide the 256 routed experts\n$/],
      [['--model', 'nope'], /^dsts: no such model: 'nope'/],
      [
        ['--model', 'deepseek-v3-671b', '--pp', '3', '--schedule', 'dualpipe'],
        /^dsts: layout: DualPipe needs an even number of pipeline stages\n$/,
      ],
      [['--model', 'deepseek-v3-671b', '--mfu', '2'], /^dsts: --mfu must be in \(0, 1\], got 2\n$/],
      [['--model', 'deepseek-v3-671b', '--tokens', 'lots'], /^dsts: --tokens expects a number/],
    ];
    for (const [a, re] of cases) {
      const e = dsts('plan', ...a, ...(a.includes('--gpus') ? [] : ['--gpus', gpus]));
      assert.equal(e.code, 1, a.join(' '));
      assert.match(e.stderr, re);
      assert.equal(e.stderr.split('\n').length, 2, 'one line');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dsts export writes vLLM, SGLang and Megatron-LM scripts with the model, run and layout in them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsts-export-'));
  try {
    const nano = join(repo, 'models', 'deepseek-ts-nano');
    const run = join(nano, 'train.json');
    const r = dsts('export', '--model', nano, '--run', run, '--out', dir, '--precision', 'fp8', '--moments', 'bf16', '--draft-tokens', '2');
    assert.equal(r.code, 0, r.stderr);
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    const vllm = read('serve-vllm.sh');
    assert.ok(vllm.includes(`vllm serve ${nano} \\`));
    assert.ok(vllm.includes('--tensor-parallel-size 1'));
    assert.ok(vllm.includes(`--speculative-config '{"method":"mtp","num_speculative_tokens":2}'`));
    const sglang = read('serve-sglang.sh');
    assert.ok(sglang.includes(`--model-path ${nano}`));
    for (const f of [
      '--speculative-algorithm EAGLE',
      '--speculative-num-steps 2',
      '--speculative-eagle-topk 1',
      '--speculative-num-draft-tokens 3',
    ])
      assert.ok(sglang.includes(f), f);
    assert.ok((statSync(join(dir, 'serve-vllm.sh')).mode & 0o111) !== 0, 'executable');

    const cfg = JSON.parse(readFileSync(join(nano, 'config.json'), 'utf8')) as Record<string, number>;
    const tr = JSON.parse(readFileSync(run, 'utf8')) as {
      seqLen: number;
      batchSize: number;
      steps: number;
      optimizer: { lr: number; weightDecay: number };
      schedule: { warmup: number; minLrRatio: number };
      mtpWeight: number;
    };
    const mega = read('train-megatron.sh');
    const has = (flag: string, value: number | string) =>
      assert.ok(new RegExp(`\\n  ${flag} ${String(value).replace(/[.*+()[\]]/g, '\\$&')}\\n`).test(mega), `${flag} ${value}`);
    has('--num-layers', cfg.num_hidden_layers!);
    has('--hidden-size', cfg.hidden_size!);
    has('--num-attention-heads', cfg.num_attention_heads!);
    has('--kv-lora-rank', cfg.kv_lora_rank!);
    has('--q-lora-rank', cfg.q_lora_rank!);
    has('--qk-head-dim', cfg.qk_nope_head_dim!);
    has('--qk-pos-emb-head-dim', cfg.qk_rope_head_dim!);
    has('--num-experts', cfg.n_routed_experts!);
    has('--moe-router-topk', cfg.num_experts_per_tok!);
    has('--moe-layer-freq', `'([0]*${cfg.first_k_dense_replace}+[1]*${cfg.num_hidden_layers! - cfg.first_k_dense_replace!})'`);
    has('--vocab-size', cfg.vocab_size!);
    has('--seq-length', tr.seqLen);
    has('--micro-batch-size', tr.batchSize);
    has('--global-batch-size', tr.batchSize);
    has('--train-iters', tr.steps);
    has('--lr', tr.optimizer.lr);
    has('--weight-decay', tr.optimizer.weightDecay);
    has('--lr-warmup-iters', tr.schedule.warmup);
    has('--min-lr', Number((tr.optimizer.lr * tr.schedule.minLrRatio).toPrecision(6)));
    has('--mtp-num-layers', cfg.num_nextn_predict_layers!);
    has('--mtp-loss-scaling-factor', tr.mtpWeight);
    has('--fp8-recipe', 'blockwise');
    has('--exp-avg-dtype', 'bf16');
    assert.ok(mega.includes('--moe-router-enable-expert-bias'));
    assert.ok(mega.includes(`--input ${join(repo, '.tmp', 'nano', 'corpus.jsonl')} --json-keys text`));
    const meta = JSON.parse(read('export.json')) as { serving: { tp: number; draftTokens: number } };
    assert.deepEqual([meta.serving.tp, meta.serving.draftTokens], [1, 2]);

    const again = dsts('export', '--model', nano, '--out', dir);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists: give --force to overwrite it\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dsts export sizes serving for the GPU: the 671B FP8 checkpoint on 8 × H200, or 2 nodes of H800', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsts-export-'));
  try {
    const h200 = dsts('export', '--model', 'deepseek-v3-671b', '--gpu', 'h200', '--out', join(dir, 'h200'));
    assert.equal(h200.code, 0, h200.stderr);
    const v = readFileSync(join(dir, 'h200', 'serve-vllm.sh'), 'utf8');
    assert.ok(
      v.includes('vllm serve deepseek-ai/DeepSeek-V3') && v.includes('--tensor-parallel-size 8') && v.includes('--enable-expert-parallel'),
    );
    assert.ok(!v.includes('--pipeline-parallel-size'));
    const h800 = dsts('export', '--model', 'deepseek-v3-671b', '--gpu', 'h800', '--out', join(dir, 'h800'));
    assert.equal(h800.code, 0, h800.stderr);
    assert.ok(readFileSync(join(dir, 'h800', 'serve-vllm.sh'), 'utf8').includes('--pipeline-parallel-size 2'));
    assert.ok(readFileSync(join(dir, 'h800', 'serve-sglang.sh'), 'utf8').includes('--tp 16 \\\n  --ep-size 16'));
    const dense = dsts(
      'export',
      '--model',
      requireShared('fixtures', 'models', 'llama_tiny'),
      '--out',
      join(dir, 'llama'),
      '--draft-tokens',
      '1',
    );
    assert.equal(dense.code, 1);
    assert.equal(dense.stderr, 'dsts: serving: the model has no MTP module to draft with\n');
    assert.ok(!existsSync(join(dir, 'llama')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
