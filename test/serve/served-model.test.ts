import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServedModel, loadServedModels } from '../../src/serve/index.ts';
import { ModelTooLargeError, runMargin, weightBytes } from '../../src/model/memory.ts';
import { openCheckpoint } from '../../src/io/safetensors/index.ts';
import { loadConfig } from '../../src/io/config.ts';
import { buildChatPrompt } from '../../src/serve/chat/prompt.ts';
import { fixture } from '../helpers/fixtures.ts';
import { buildTinyChatModel } from '../helpers/tiny-chat-model.ts';
import { tinyModelDir } from './tiny-server.ts';

test('what the server learns from a model folder', () => {
  const r1 = loadServedModel(tinyModelDir('r1'));
  const v3 = loadServedModel(tinyModelDir('v3'), { name: 'v3', maxContext: 256 });
  assert.equal(r1.reasoning, true);
  assert.equal(v3.reasoning, false);
  assert.equal(v3.id, 'v3');
  assert.equal(v3.maxContext, 256);
  assert.equal(r1.maxContext, 512, "the config's max_position_embeddings");
  assert.deepEqual(r1.eosIds, [1]);
  assert.equal(r1.toolDialect.name, 'deepseek');
  assert.equal(r1.fim?.name, 'deepseek');
  assert.equal(r1.templateRendersTools, false, "DeepSeek's template leaves tools to the server");
  const bytes = r1.tokenBytes();
  assert.equal(bytes.length, 512);
  assert.equal(bytes[1], null, 'special tokens have no bytes');
  assert.equal(new TextDecoder().decode(bytes[r1.tokenizer.tokenToId('</think>')!]!), '</think>');
});

test('a tokenizer without a chat template gets a plain User/Assistant one', () => {
  const m = buildTinyChatModel({ template: 'v3' });
  try {
    const path = join(m.dir, 'tokenizer_config.json');
    const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    delete config.chat_template;
    writeFileSync(path, JSON.stringify(config));
    const model = loadServedModel(m.dir);
    const p = buildChatPrompt(
      model,
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: 'Bye' },
      ],
      [],
    );
    assert.equal(p.text, '<｜begin▁of▁sentence｜>Be brief.\n\nUser: Hi\n\nAssistant: Hello!<｜end▁of▁sentence｜>User: Bye\n\nAssistant:');
    assert.equal(p.opensThinking, false);
  } finally {
    m.dispose();
  }
});

test('a folder without a tokenizer is refused with a clear message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsts-no-tok-'));
  try {
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(fixture('models', 'deepseek_v3_tiny', f), join(dir, f));
    assert.throws(() => loadServedModel(dir), /no tokenizer\.json — the server needs the model's tokenizer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sampling defaults come from generation_config.json, else R1 (0.6 / 0.95) for an R1 template; <think> is forced when a template omits it', () => {
  assert.deepEqual(loadServedModel(tinyModelDir('r1')).sampling, { temperature: 0.6, topP: 0.95 });
  assert.deepEqual(loadServedModel(tinyModelDir('v3')).sampling, {});
  const m = buildTinyChatModel({ template: 'r1' });
  try {
    writeFileSync(
      join(m.dir, 'generation_config.json'),
      JSON.stringify({ do_sample: true, temperature: 0.8, top_p: 0.9, eos_token_id: [1, 3] }),
    );
    const withConfig = loadServedModel(m.dir);
    assert.deepEqual(withConfig.sampling, { temperature: 0.8, topP: 0.9 });
    assert.ok(withConfig.eosIds.includes(3));
    // R1's first released template: the generation prompt stops at <｜Assistant｜>, without <think>.
    const configPath = join(m.dir, 'tokenizer_config.json');
    const tc = JSON.parse(readFileSync(configPath, 'utf8'));
    tc.chat_template = String(tc.chat_template).replace("{{'<｜Assistant｜><think>\\n'}}", "{{'<｜Assistant｜>'}}");
    assert.ok(!tc.chat_template.includes("<｜Assistant｜><think>\\n'}}{% endif %}"));
    writeFileSync(configPath, JSON.stringify(tc));
    const early = loadServedModel(m.dir);
    const p = buildChatPrompt(early, [{ role: 'user', content: 'Hi' }], []);
    assert.ok(p.text.endsWith('<｜Assistant｜><think>\n'), JSON.stringify(p.text.slice(-40)));
    assert.equal(p.opensThinking, true);
  } finally {
    m.dispose();
  }
});

test('several models: the names must differ, and the memory check counts them together', () => {
  const [r1, v3] = [tinyModelDir('r1'), tinyModelDir('v3')];
  const both = loadServedModels([{ dir: v3, name: 'poet' }, { dir: r1 }]);
  assert.deepEqual(
    both.map((m) => m.id),
    ['poet', r1.split('/').at(-1)],
  );
  assert.throws(
    () =>
      loadServedModels([
        { dir: v3, name: 'x' },
        { dir: r1, name: 'x' },
      ]),
    /^UserFacingError: two models would be served as 'x' \(.* and .*\): name one with --model <name>=<dir>$/,
  );
  const ck = openCheckpoint(r1);
  const one = weightBytes(ck, loadConfig(r1));
  ck.close();
  // Room for one model and half of another: each fits alone, the two do not.
  process.env.DSTS_MEMORY_LIMIT_MB = String((one + runMargin(one) + one * 0.55) / 2 ** 20);
  try {
    assert.doesNotThrow(() => loadServedModels([{ dir: r1 }]));
    assert.throws(
      () => loadServedModels([{ dir: v3, name: 'poet' }, { dir: r1 }]),
      (e: Error) => {
        assert.ok(e instanceof ModelTooLargeError);
        assert.match(e.message, /^the 2 models need [\d.]+ GB of memory together for their weights \(.*, .*\+[\d.]+ GB to run\), but only/);
        return true;
      },
    );
  } finally {
    delete process.env.DSTS_MEMORY_LIMIT_MB;
  }
});
