// A Llama config with mlp_bias: the MLP biases change the output and receive gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/io/config.ts';
import { initWeights } from '../../src/model/init.ts';
import { buildModel } from '../../src/model/registry.ts';
import * as T from '../../src/tensor/index.ts';

test('mlp_bias biases are read, used and trained', () => {
  const config = parseConfig(
    {
      model_type: 'llama',
      vocab_size: 64,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      mlp_bias: true,
      tie_word_embeddings: true,
    },
    'inline',
  );
  const weights = initWeights(config, 3);
  const bias = weights.get('model.layers.0.mlp.down_proj.bias');
  const model = buildModel(config, weights);
  const ids = T.Tensor.from([1, 5, 9, 2], [1, 4], 'i32');
  const before = T.floatData(T.noGrad(() => model.forward(ids).logits!)).slice();
  bias.data.fill(0.5);
  const after = T.floatData(T.noGrad(() => model.forward(ids).logits!));
  assert.ok(
    before.some((v, i) => Math.abs(v - after[i]!) > 1e-4),
    'changing down_proj.bias must change the logits',
  );
  T.backward(T.sum(model.forward(ids).logits!));
  assert.ok(weights.get('model.layers.0.mlp.gate_proj.bias').grad, 'gate_proj.bias gets a gradient');
});
