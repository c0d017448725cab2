// config.json → typed configs: every fixture and benchmark config, transformers' defaults, and one
// clear error (file + key) for each way a config can be wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, parseConfig, type ModelConfig } from '../../src/io/config.ts';
import { FormatError, MissingFileError } from '../../src/io/errors.ts';
import { fixtureModels, requireShared } from '../helpers/shared.ts';
import { tempDir } from './tmp.ts';

function narrow<T extends ModelConfig['modelType']>(c: ModelConfig, type: T): Extract<ModelConfig, { modelType: T }> {
  assert.equal(c.modelType, type);
  return c as Extract<ModelConfig, { modelType: T }>;
}

test('every fixture model config and benchmark config parses', () => {
  for (const m of fixtureModels) {
    const c = loadConfig(requireShared('fixtures', 'models', m));
    assert.equal(c.source, requireShared('fixtures', 'models', m, 'config.json'));
    assert.equal(c.vocabSize, 512);
    assert.equal(c.hiddenSize, 64);
  }
  for (const f of ['bench_nano', 'bench_small', 'bench_v2lite']) {
    const c = loadConfig(requireShared('configs', `${f}.json`));
    assert.ok(c.modelType === 'deepseek_v3' || c.modelType === 'deepseek_v2', f);
  }
  const nano = narrow(loadConfig(requireShared('configs', 'bench_nano.json')), 'deepseek_v3');
  assert.deepEqual(nano.ropeScaling, { type: 'default' }); // rope_scaling: null
});

test('deepseek_v3_tiny: MLA, DeepSeekMoE and YaRN fields', () => {
  const c = narrow(loadConfig(requireShared('fixtures', 'models', 'deepseek_v3_tiny', 'config.json')), 'deepseek_v3');
  assert.deepEqual(
    [c.qLoraRank, c.kvLoraRank, c.qkNopeHeadDim, c.qkRopeHeadDim, c.qkHeadDim, c.vHeadDim, c.numAttentionHeads, c.numKeyValueHeads],
    [48, 32, 16, 8, 24, 12, 4, 4],
  );
  assert.deepEqual(
    [
      c.nRoutedExperts,
      c.nSharedExperts,
      c.numExpertsPerTok,
      c.moeIntermediateSize,
      c.nGroup,
      c.topkGroup,
      c.firstKDenseReplace,
      c.moeLayerFreq,
    ],
    [16, 1, 4, 32, 4, 2, 1, 1],
  );
  assert.equal(c.topkMethod, 'noaux_tc');
  assert.equal(c.scoringFunc, 'sigmoid');
  assert.equal(c.normTopkProb, true);
  assert.equal(c.routedScalingFactor, 2.5);
  assert.equal(c.numNextnPredictLayers, 1);
  assert.equal(c.ropeInterleave, true);
  assert.equal(c.tieWordEmbeddings, false);
  assert.equal(c.rmsNormEps, 1e-6);
  assert.equal(c.ropeTheta, 10000);
  assert.deepEqual(c.ropeScaling, {
    type: 'yarn',
    factor: 4,
    originalMaxPositionEmbeddings: 128,
    betaFast: 32,
    betaSlow: 1,
    mscale: 1,
    mscaleAllDim: 1,
    attentionFactor: null,
  });
  assert.equal(c.quantization, null);
  assert.equal(c.torchDtype, 'bfloat16');
});

test('deepseek_v3_tiny_fp8 and the 671B config carry the FP8 block quantisation', () => {
  const fp8 = loadConfig(requireShared('fixtures', 'models', 'deepseek_v3_tiny_fp8'));
  assert.deepEqual(fp8.quantization, { quantMethod: 'fp8', fmt: 'e4m3', weightBlockSize: [32, 32], activationScheme: 'dynamic' });
  const big = narrow(
    parseConfig(JSON.parse(readFileSync(requireShared('fixtures', 'params_671b.json'), 'utf8')).config, 'params_671b.json#config'),
    'deepseek_v3',
  );
  assert.deepEqual(big.quantization?.weightBlockSize, [128, 128]);
  assert.deepEqual(
    [big.numHiddenLayers, big.firstKDenseReplace, big.nRoutedExperts, big.numExpertsPerTok, big.nGroup, big.topkGroup],
    [61, 3, 256, 8, 8, 4],
  );
  // Its rope_scaling has both "type" and transformers 5's "rope_type"/"rope_theta" inside.
  assert.deepEqual(big.ropeScaling, {
    type: 'yarn',
    factor: 40,
    originalMaxPositionEmbeddings: 4096,
    betaFast: 32,
    betaSlow: 1,
    mscale: 1,
    mscaleAllDim: 1,
    attentionFactor: null,
  });
  assert.equal(big.maxPositionEmbeddings, 163840);
});

test('deepseek_v2_tiny: no q-LoRA, softmax greedy routing, 2 shared experts', () => {
  const c = narrow(loadConfig(requireShared('fixtures', 'models', 'deepseek_v2_tiny')), 'deepseek_v2');
  assert.equal(c.qLoraRank, null);
  assert.equal(c.scoringFunc, 'softmax');
  assert.equal(c.topkMethod, 'greedy');
  assert.equal(c.normTopkProb, false);
  assert.equal(c.nSharedExperts, 2);
  assert.equal(c.numExpertsPerTok, 3);
  assert.equal(c.routedScalingFactor, 1);
  assert.equal(c.numNextnPredictLayers, 0);
  assert.equal(c.ropeScaling.type === 'yarn' && c.ropeScaling.mscaleAllDim, 0.707);
});

test('llama_tiny and qwen2_tiny: GQA, llama3 RoPE, tied embeddings, biases', () => {
  const l = narrow(loadConfig(requireShared('fixtures', 'models', 'llama_tiny')), 'llama');
  assert.deepEqual([l.numAttentionHeads, l.numKeyValueHeads, l.headDim], [4, 2, 16]);
  assert.equal(l.tieWordEmbeddings, true);
  assert.equal(l.ropeTheta, 500000);
  assert.equal(l.rmsNormEps, 1e-5);
  assert.deepEqual(l.ropeScaling, { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 });
  assert.equal(l.attentionBias, false);
  assert.equal(l.mlpBias, false);
  const q = narrow(loadConfig(requireShared('fixtures', 'models', 'qwen2_tiny')), 'qwen2');
  assert.deepEqual([q.numAttentionHeads, q.numKeyValueHeads, q.headDim, q.intermediateSize], [8, 2, 8, 176]);
  assert.deepEqual(q.ropeScaling, { type: 'default' });
  assert.equal(q.useSlidingWindow, false);
  assert.equal(q.slidingWindow, null); // transformers drops the window when use_sliding_window is false
  assert.equal(q.maxWindowLayers, 2);
  assert.equal(q.eosTokenId, 151643);
});

const dims = { vocab_size: 100, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 4, num_attention_heads: 4 };
const mla = {
  kv_lora_rank: 16,
  qk_nope_head_dim: 8,
  qk_rope_head_dim: 4,
  v_head_dim: 8,
  n_routed_experts: 16,
  num_experts_per_tok: 2,
  moe_intermediate_size: 16,
};

test("absent keys take transformers' defaults, per family", () => {
  const v3 = narrow(parseConfig({ model_type: 'deepseek_v3', ...dims, ...mla }, 'v3'), 'deepseek_v3');
  assert.deepEqual(
    [
      v3.nSharedExperts,
      v3.routedScalingFactor,
      v3.nGroup,
      v3.topkGroup,
      v3.firstKDenseReplace,
      v3.normTopkProb,
      v3.topkMethod,
      v3.scoringFunc,
      v3.numNextnPredictLayers,
      v3.moeLayerFreq,
    ],
    [1, 2.5, 8, 4, 3, true, 'noaux_tc', 'sigmoid', 1, 1],
  );
  assert.deepEqual(
    [v3.qLoraRank, v3.numKeyValueHeads, v3.maxPositionEmbeddings, v3.ropeTheta, v3.bosTokenId, v3.eosTokenId],
    [null, 4, 4096, 10000, 0, 1],
  );
  assert.deepEqual(
    [v3.tieWordEmbeddings, v3.attentionBias, v3.ropeInterleave, v3.rmsNormEps, v3.hiddenAct],
    [false, false, true, 1e-6, 'silu'],
  );
  assert.deepEqual(v3.ropeScaling, { type: 'default' });
  assert.equal(v3.quantization, null);

  const v2 = narrow(parseConfig({ model_type: 'deepseek_v2', ...dims, ...mla }, 'v2'), 'deepseek_v2');
  assert.deepEqual(
    [
      v2.nSharedExperts,
      v2.routedScalingFactor,
      v2.nGroup,
      v2.topkGroup,
      v2.firstKDenseReplace,
      v2.normTopkProb,
      v2.topkMethod,
      v2.scoringFunc,
      v2.numNextnPredictLayers,
    ],
    [2, 1, 1, 1, 0, false, 'greedy', 'softmax', 0],
  );
  assert.equal(
    narrow(parseConfig({ model_type: 'deepseek_v2', ...dims, ...mla, n_shared_experts: null }, 'v2'), 'deepseek_v2').nSharedExperts,
    0,
  );
  assert.equal(
    narrow(parseConfig({ model_type: 'deepseek_v2', ...dims, ...mla, topk_method: 'gready' }, 'v2'), 'deepseek_v2').topkMethod,
    'greedy',
  );

  const llama = narrow(parseConfig({ model_type: 'llama', ...dims }, 'l'), 'llama');
  assert.deepEqual(
    [llama.headDim, llama.numKeyValueHeads, llama.maxPositionEmbeddings, llama.bosTokenId, llama.eosTokenId, llama.mlpBias],
    [8, 4, 2048, 1, 2, false],
  );
  assert.equal(narrow(parseConfig({ model_type: 'llama', ...dims, head_dim: 16 }, 'l'), 'llama').headDim, 16);
  assert.deepEqual(narrow(parseConfig({ model_type: 'llama', ...dims, eos_token_id: [1, 2, 3] }, 'l'), 'llama').eosTokenId, [1, 2, 3]);

  const qwen = narrow(parseConfig({ model_type: 'qwen2', ...dims, use_sliding_window: true }, 'q'), 'qwen2');
  assert.deepEqual([qwen.slidingWindow, qwen.maxWindowLayers, qwen.maxPositionEmbeddings, qwen.bosTokenId], [4096, 28, 32768, null]);
});

test("transformers 5's rope_parameters (theta inside) reads like rope_scaling", () => {
  const c = parseConfig({ model_type: 'llama', ...dims, rope_parameters: { rope_type: 'yarn', factor: 2, rope_theta: 1e6 } }, 'x');
  assert.equal(c.ropeTheta, 1e6);
  assert.deepEqual(c.ropeScaling, {
    type: 'yarn',
    factor: 2,
    originalMaxPositionEmbeddings: 2048,
    betaFast: 32,
    betaSlow: 1,
    mscale: null,
    mscaleAllDim: null,
    attentionFactor: null,
  });
  assert.deepEqual(parseConfig({ model_type: 'llama', ...dims, rope_scaling: { rope_type: 'default' } }, 'x').ropeScaling, {
    type: 'default',
  });
});

/** Expects a FormatError naming `source` and `key`, with a message matching `detail`. */
function expectKeyError(json: unknown, key: string, detail: RegExp, source = 'cfg.json'): void {
  assert.throws(
    () => parseConfig(json, source),
    (e: unknown) => {
      assert.ok(e instanceof FormatError, `expected FormatError for ${key}, got ${String(e)}`);
      assert.equal(e.file, source);
      assert.equal(e.key, key);
      assert.match(e.message, detail);
      assert.ok(e.message.startsWith(`${source}: '${key}': `), e.message);
      return true;
    },
  );
}

test('a missing required key is named, with the file', () => {
  for (const key of Object.keys(dims)) {
    const json: Record<string, unknown> = { model_type: 'llama', ...dims };
    delete json[key];
    expectKeyError(json, key, /missing required key/);
  }
  for (const key of Object.keys(mla)) {
    const json: Record<string, unknown> = { model_type: 'deepseek_v3', ...dims, ...mla };
    delete json[key];
    expectKeyError(json, key, /missing required key/);
  }
  expectKeyError({ ...dims }, 'model_type', /missing required key/);
  expectKeyError({ model_type: 'deepseek_v3', ...dims, ...mla, hidden_size: null }, 'hidden_size', /missing required key/);
});

test('wrong types, unsupported values and inconsistent shapes are named', () => {
  const v3 = { model_type: 'deepseek_v3', ...dims, ...mla };
  expectKeyError(
    { ...dims, model_type: 'gpt2' },
    'model_type',
    /unsupported model_type "gpt2" \(supported: deepseek_v3, deepseek_v2, qwen2, llama\)/,
  );
  expectKeyError({ ...v3, hidden_size: '32' }, 'hidden_size', /must be an integer, got "32"/);
  expectKeyError({ ...v3, num_hidden_layers: 0 }, 'num_hidden_layers', /at least 1/);
  expectKeyError({ ...v3, rms_norm_eps: 'small' }, 'rms_norm_eps', /must be a number/);
  expectKeyError({ ...v3, tie_word_embeddings: 'yes' }, 'tie_word_embeddings', /true or false/);
  expectKeyError({ ...v3, scoring_func: 'relu' }, 'scoring_func', /one of 'sigmoid', 'softmax'/);
  expectKeyError({ ...v3, topk_method: 'random' }, 'topk_method', /one of 'noaux_tc', 'greedy', 'group_limited_greedy'/);
  expectKeyError({ ...v3, n_group: 3 }, 'n_group', /must divide n_routed_experts \(16\)/);
  expectKeyError({ ...v3, n_group: 4, topk_group: 5 }, 'topk_group', /must not exceed n_group \(4\)/);
  expectKeyError({ ...v3, n_group: 16, topk_group: 2 }, 'n_group', /at least 2 experts per group/);
  expectKeyError({ ...v3, num_experts_per_tok: 17 }, 'num_experts_per_tok', /must not exceed n_routed_experts/);
  expectKeyError(
    { ...v3, n_group: 8, topk_group: 1, num_experts_per_tok: 3 },
    'num_experts_per_tok',
    /must fit in topk_group \(1\) groups of 2 experts/,
  );
  expectKeyError({ ...v3, first_k_dense_replace: 5 }, 'first_k_dense_replace', /must not exceed num_hidden_layers/);
  expectKeyError({ ...v3, qk_rope_head_dim: 3 }, 'qk_rope_head_dim', /even/);
  expectKeyError({ ...v3, num_key_value_heads: 3 }, 'num_key_value_heads', /must divide num_attention_heads/);
  expectKeyError({ model_type: 'llama', ...dims, num_attention_heads: 5 }, 'num_attention_heads', /must divide hidden_size/);
  expectKeyError({ ...v3, rope_scaling: { type: 'dynamic', factor: 2 } }, 'rope_scaling.type', /one of 'default', 'yarn', 'llama3'/);
  expectKeyError({ ...v3, rope_scaling: { type: 'yarn' } }, 'rope_scaling.factor', /missing required key/);
  expectKeyError({ ...v3, rope_scaling: 'yarn' }, 'rope_scaling', /must be an object/);
  expectKeyError(
    {
      model_type: 'llama',
      ...dims,
      rope_scaling: { rope_type: 'llama3', factor: 8, high_freq_factor: 4, original_max_position_embeddings: 64 },
    },
    'rope_scaling.low_freq_factor',
    /missing required key/,
  );
  expectKeyError({ ...v3, quantization_config: { quant_method: 'bitsandbytes' } }, 'quantization_config.quant_method', /one of 'fp8'/);
  expectKeyError({ ...v3, quantization_config: { fmt: 'e4m3' } }, 'quantization_config.quant_method', /missing required key/);
  expectKeyError({ ...v3, quantization_config: { quant_method: 'fp8', fmt: 'e5m2' } }, 'quantization_config.fmt', /one of 'e4m3'/);
  expectKeyError(
    { ...v3, quantization_config: { quant_method: 'fp8', weight_block_size: [128] } },
    'quantization_config.weight_block_size',
    /\[rows, cols\]/,
  );
  expectKeyError({ model_type: 'llama', ...dims, eos_token_id: [1, 'x'] }, 'eos_token_id[1]', /integer/);
  assert.throws(
    () => parseConfig([1, 2], 'arr.json'),
    (e: unknown) => e instanceof FormatError && e.message === 'arr.json: config must be a JSON object',
  );
});

test('loadConfig: missing file or folder, folder without config.json, invalid JSON', (t) => {
  const dir = tempDir(t);
  assert.throws(
    () => loadConfig(join(dir, 'nope.json')),
    (e: unknown) => e instanceof MissingFileError && e.message === `${join(dir, 'nope.json')}: no such file or directory`,
  );
  assert.throws(
    () => loadConfig(dir),
    (e: unknown) => e instanceof MissingFileError && e.file === join(dir, 'config.json'),
  );
  writeFileSync(join(dir, 'config.json'), '{"model_type": "llama",');
  assert.throws(
    () => loadConfig(dir),
    (e: unknown) => e instanceof FormatError && e.file === join(dir, 'config.json') && /not valid JSON/.test(e.message),
  );
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'llama', ...dims }));
  assert.equal(loadConfig(dir).modelType, 'llama');
});
