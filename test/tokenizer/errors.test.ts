// Mistakes a user can make with tokenizer files: each is a TokenizerError with a one-line message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenizer, Tokenizer, TokenizerError } from '../../src/tokenizer/index.ts';
import { syntheticTokenizer } from './synthetic.ts';

function oneLineError(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof TokenizerError, `a TokenizerError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('missing files and malformed JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsts-tok-'));
  try {
    oneLineError(() => loadTokenizer(join(dir, 'nope.json')), /tokenizer not found/);
    oneLineError(() => loadTokenizer(dir), /no tokenizer\.json in/);
    writeFileSync(join(dir, 'tokenizer.json'), '{"model": ');
    oneLineError(() => loadTokenizer(dir), /malformed JSON in .*tokenizer\.json/);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(syntheticTokenizer()));
    writeFileSync(join(dir, 'tokenizer_config.json'), '[');
    oneLineError(() => loadTokenizer(dir), /malformed JSON in .*tokenizer_config\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed or unsupported tokenizer.json content', () => {
  const bad = (patch: (j: any) => void) => {
    const j = syntheticTokenizer({ merges: [['a', 'b']] }) as any;
    patch(j);
    return () => new Tokenizer(j);
  };
  oneLineError(
    bad((j) => (j.model.type = 'WordPiece')),
    /unsupported model type 'WordPiece'/,
  );
  oneLineError(
    bad((j) => delete j.model.vocab),
    /'vocab' must be an object/,
  );
  oneLineError(
    bad((j) => (j.model.merges = ['a'])),
    /merge #0 "a" is not "a b"/,
  );
  oneLineError(
    bad((j) => ((j.model.merges = [['a', 'q']]), delete j.model.vocab.q)),
    /uses a token missing/,
  );
  oneLineError(
    bad((j) => (j.model.merges = [['a', 'c']])),
    /makes a token missing/,
  );
  oneLineError(
    bad((j) => (j.model.byte_fallback = true)),
    /byte_fallback/,
  );
  oneLineError(
    bad((j) => (j.pre_tokenizer = null)),
    /pre_tokenizer is missing/,
  );
  oneLineError(
    bad(
      (j) =>
        (j.pre_tokenizer = {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: '(?<x' }, behavior: 'Isolated' },
            { type: 'ByteLevel', use_regex: false },
          ],
        }),
    ),
    /tokenizer regex/,
  );
  oneLineError(
    bad(
      (j) =>
        (j.pre_tokenizer = {
          type: 'Sequence',
          pretokenizers: [{ type: 'Split', pattern: { Regex: 'a' }, behavior: 'Sideways' }, { type: 'ByteLevel' }],
        }),
    ),
    /unknown split behavior "Sideways"/,
  );
  oneLineError(
    bad((j) => (j.decoder = { type: 'WordPiece' })),
    /unsupported decoder type 'WordPiece'/,
  );
  oneLineError(
    bad((j) => (j.post_processor = { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<none>' } }] })),
    /'<none>'|"<none>" is not in the vocabulary/,
  );
  oneLineError(
    bad((j) => (j.added_tokens = [{ content: 'x' }])),
    /added_tokens\[0\] needs 'id' and 'content'/,
  );
});

test('config and chat template mistakes', () => {
  const json = syntheticTokenizer();
  oneLineError(() => new Tokenizer(json, { add_bos_token: true, bos_token: '<s>' }), /bos_token is not in the vocabulary/);
  const tok = new Tokenizer(json, { chat_template: '{% for m in messages %}{{ m.content }' });
  oneLineError(() => tok.applyChatTemplate([{ role: 'user', content: 'hi' }]), /chat template/);
  oneLineError(() => new Tokenizer(json).applyChatTemplate([{ role: 'user', content: 'hi' }]), /has no chat_template/);
  const raising = new Tokenizer(json, { chat_template: "{{ raise_exception('only user turns') }}" });
  oneLineError(() => raising.applyChatTemplate([]), /only user turns/);
});
