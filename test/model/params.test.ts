// Parameter accounting: the 671B figures exactly, every breakdown field against the tensors the
// fixture checkpoints actually hold, and the `dsts params` command end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfig, type ModelConfig } from '../../src/io/config.ts';
import { openSafetensors, numel } from '../../src/io/safetensors/index.ts';
import { countParams, type ParamBreakdown } from '../../src/model/params.ts';
import { fixtureModels, requireShared } from '../helpers/shared.ts';

function config671b(): ModelConfig {
  const json = JSON.parse(readFileSync(requireShared('fixtures', 'params_671b.json'), 'utf8')) as {
    config: unknown;
    transformers_total_params_without_mtp: number;
  };
  assert.equal(json.transformers_total_params_without_mtp, 671_026_404_352, 'fixture states the transformers count');
  return parseConfig(json.config, 'params_671b.json#config');
}

test('DeepSeek-V3 671B: total, correction bias, activated, MTP exactly', () => {
  const p = countParams(config671b());
  assert.equal(p.total, 671_026_404_352);
  assert.equal(p.correctionBias, 14_848); // 58 MoE layers × 256 experts
  assert.equal(p.activated, 37_552_297_472);
  assert.equal(p.mtp, 11_610_068_224);
  assert.equal(p.mtpCorrectionBias, 256);
  const b = p.breakdown;
  assert.equal(b.embedding + b.lmHead + b.attention + b.norms + b.denseMlp + b.sharedExperts + b.routedExperts + b.router, p.total);
  assert.equal(b.embedding, 129_280 * 7168);
  assert.equal(b.routedExperts, 58 * 256 * 3 * 7168 * 2048);
});

/** Sums the checkpoint's tensors into the same buckets, by HF tensor name. */
function checkpointBuckets(model: string): { buckets: ParamBreakdown; bias: number; biasTensors: number } {
  const f = openSafetensors(requireShared('fixtures', 'models', model, 'model.safetensors'));
  const buckets: ParamBreakdown = {
    embedding: 0,
    lmHead: 0,
    attention: 0,
    norms: 0,
    denseMlp: 0,
    sharedExperts: 0,
    routedExperts: 0,
    router: 0,
  };
  let bias = 0;
  let biasTensors = 0;
  try {
    for (const name of f.names()) {
      if (name.endsWith('weight_scale_inv')) continue; // FP8 scales: storage, not parameters
      const n = numel(f.info(name).shape);
      const rules: [RegExp, keyof ParamBreakdown][] = [
        [/^model\.embed_tokens\./, 'embedding'],
        [/^lm_head\./, 'lmHead'],
        [/\.self_attn\./, 'attention'],
        [/(layernorm|^model\.norm)\.weight$/, 'norms'],
        [/\.mlp\.experts\./, 'routedExperts'],
        [/\.mlp\.shared_experts\./, 'sharedExperts'],
        [/\.mlp\.gate\.weight$/, 'router'],
        [/\.mlp\.(gate|up|down)_proj\./, 'denseMlp'],
      ];
      if (name.endsWith('e_score_correction_bias')) {
        bias += n;
        biasTensors++;
        continue;
      }
      const rule = rules.find(([re]) => re.test(name));
      assert.ok(rule, `${model}: unclassified tensor ${name}`);
      buckets[rule[1]] += n;
    }
  } finally {
    f.close();
  }
  return { buckets, bias, biasTensors };
}

test('each family: every breakdown field equals what its fixture checkpoint holds', () => {
  for (const model of fixtureModels) {
    const config = loadConfig(requireShared('fixtures', 'models', model));
    const p = countParams(config);
    const { buckets, bias } = checkpointBuckets(model);
    assert.deepEqual(p.breakdown, buckets, model);
    assert.equal(p.correctionBias, bias, `${model}: correction bias`);
    const sum = Object.values(buckets).reduce((a, b) => a + b, 0);
    assert.equal(p.total, sum, `${model}: total`);
  }
});

test('tiny DeepSeek-V3: activated and MTP by hand', () => {
  const c = loadConfig(requireShared('fixtures', 'models', 'deepseek_v3_tiny'));
  const p = countParams(c);
  const h = 64;
  const expert = 3 * h * 32;
  const moeLayers = 2;
  // Everything but the 16 − 4 unchosen routed experts per MoE layer, plus the routers' bias.
  assert.equal(p.activated, p.total - moeLayers * (16 - 4) * expert + p.correctionBias);
  // MTP = enorm + hnorm + eh_proj + shared_head.norm + one MoE block (same shapes as layer 1).
  const { buckets } = checkpointBuckets('deepseek_v3_tiny');
  const moeBlock = buckets.attention / 3 + 2 * h + expert * 16 + expert /* one shared expert */ + 16 * h + 16;
  assert.equal(p.mtp, 2 * h + 2 * h * h + h + moeBlock);
  assert.equal(p.mtpCorrectionBias, 16);
});

test('dense families: activated = total, no MTP; tied embeddings counted once', () => {
  for (const model of ['llama_tiny', 'qwen2_tiny']) {
    const p = countParams(loadConfig(requireShared('fixtures', 'models', model)));
    assert.equal(p.activated, p.total, model);
    assert.equal(p.mtp, 0);
    assert.equal(p.correctionBias, 0);
  }
  const llama = countParams(loadConfig(requireShared('fixtures', 'models', 'llama_tiny')));
  assert.equal(llama.breakdown.lmHead, 0);
  const untied = countParams(
    parseConfig(
      { ...JSON.parse(readFileSync(requireShared('fixtures', 'models', 'llama_tiny', 'config.json'), 'utf8')), tie_word_embeddings: false },
      'x',
    ),
  );
  assert.equal(untied.total - llama.total, 512 * 64);
});

test('biases: llama attention_bias / mlp_bias, DeepSeek attention_bias, V2 noaux_tc router bias', () => {
  const dims = {
    vocab_size: 10,
    hidden_size: 8,
    intermediate_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
  };
  const base = countParams(parseConfig({ model_type: 'llama', ...dims }, 'x')).total;
  assert.equal(countParams(parseConfig({ model_type: 'llama', ...dims, attention_bias: true }, 'x')).total - base, 8 + 4 + 4 + 8);
  assert.equal(countParams(parseConfig({ model_type: 'llama', ...dims, mlp_bias: true }, 'x')).total - base, 16 + 16 + 8);
  const mla = {
    ...dims,
    kv_lora_rank: 4,
    q_lora_rank: 4,
    qk_nope_head_dim: 2,
    qk_rope_head_dim: 2,
    v_head_dim: 2,
    n_routed_experts: 4,
    num_experts_per_tok: 2,
    moe_intermediate_size: 2,
    n_group: 2,
    topk_group: 1,
    first_k_dense_replace: 0,
  };
  const ds = countParams(parseConfig({ model_type: 'deepseek_v3', ...mla }, 'x')).total;
  assert.equal(
    countParams(parseConfig({ model_type: 'deepseek_v3', ...mla, attention_bias: true }, 'x')).total - ds,
    4 /* q_a */ + 6 /* kv_a */ + 8 /* o */,
  );
  assert.equal(countParams(parseConfig({ model_type: 'deepseek_v2', ...mla, topk_method: 'noaux_tc' }, 'x')).correctionBias, 4);
  assert.equal(countParams(parseConfig({ model_type: 'deepseek_v2', ...mla }, 'x')).correctionBias, 0);
});

test('benchmark configs have the sizes shared/README.md states', () => {
  const approx = (n: number, want: number, tol: number) => assert.ok(Math.abs(n - want) <= tol, `${n} vs about ${want}`);
  approx(countParams(loadConfig(requireShared('configs', 'bench_nano.json'))).total, 14e6, 0.5e6);
  approx(countParams(loadConfig(requireShared('configs', 'bench_small.json'))).total, 117e6, 0.5e6);
  const lite = countParams(loadConfig(requireShared('configs', 'bench_v2lite.json')));
  approx(lite.total, 15.7e9, 0.05e9);
  approx(lite.activated, 2.66e9, 0.005e9);
});

const repo = fileURLToPath(new URL('../../', import.meta.url));
function dsts(...args: string[]) {
  const r = spawnSync(process.execPath, [join(repo, 'bin', 'dsts.js'), ...args], { encoding: 'utf8', cwd: repo });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('dsts params --json prints the counts; a missing file is exit 1 with one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsts-params-'));
  try {
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify(JSON.parse(readFileSync(requireShared('fixtures', 'params_671b.json'), 'utf8')).config));
    const r = dsts('params', '--config', dir, '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out.config, cfg);
    assert.equal(out.modelType, 'deepseek_v3');
    assert.equal(out.total, 671_026_404_352);
    assert.equal(out.correctionBias, 14_848);
    assert.equal(out.activated, 37_552_297_472);
    assert.equal(out.mtp, 11_610_068_224);

    const table = dsts('params', '--config', cfg);
    assert.equal(table.code, 0, table.stderr);
    for (const n of ['671,026,404,352', '14,848', '37,552,297,472', '11,610,068,224'])
      assert.ok(table.stdout.includes(n), `table shows ${n}`);

    const missing = dsts('params', '--config', join(dir, 'nope.json'), '--json');
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.equal(missing.stderr, `dsts: ${join(dir, 'nope.json')}: no such file or directory\n`);

    writeFileSync(cfg, JSON.stringify({ model_type: 'deepseek_v3', hidden_size: 8 }));
    const bad = dsts('params', '--config', cfg);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /^dsts: .*config\.json: '\w+': missing required key\n$/);

    const noFlag = dsts('params');
    assert.equal(noFlag.code, 1);
    assert.match(noFlag.stderr, /--config .* is required/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
