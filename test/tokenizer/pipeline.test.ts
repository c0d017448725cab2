// The tokenizer pipeline pieces on small hand-made tokenizers: splitting behaviors, pre-tokenizers,
// normalizers, added tokens, post-processors, merge formats, and decoding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tokenizer } from '../../src/tokenizer/index.ts';
import { buildPreTokenizer } from '../../src/tokenizer/pre-tokenizers.ts';
import { splitOnRegex, SplitPattern, type SplitBehavior } from '../../src/tokenizer/split.ts';
import { LLAMA3_PRE_TOKENIZER, PLAIN_BYTE_LEVEL, QWEN2_PRE_TOKENIZER, syntheticTokenizer } from './synthetic.ts';

function split(re: RegExp, behavior: SplitBehavior, text: string, invert = false): string[] {
  const out: string[] = [];
  splitOnRegex(text, new SplitPattern(re), behavior, invert, out);
  return out;
}

function preTokenize(node: object, text: string): string[] {
  const out: string[] = [];
  buildPreTokenizer(node as never).split(text, out);
  return out;
}

test('split delimiter behaviors (HF SplitDelimiterBehavior)', () => {
  const s = 'How are you doing?';
  assert.deepEqual(split(/ /gu, 'Removed', s), ['How', 'are', 'you', 'doing?']);
  assert.deepEqual(split(/ /gu, 'Isolated', s), ['How', ' ', 'are', ' ', 'you', ' ', 'doing?']);
  assert.deepEqual(split(/ /gu, 'MergedWithPrevious', s), ['How ', 'are ', 'you ', 'doing?']);
  assert.deepEqual(split(/ /gu, 'MergedWithNext', s), ['How', ' are', ' you', ' doing?']);
  assert.deepEqual(split(/-/gu, 'Contiguous', 'a--b-c'), ['a', '--', 'b', '-', 'c']);
  assert.deepEqual(split(/-/gu, 'MergedWithPrevious', '--a--'), ['-', '-', 'a-', '-']);
  assert.deepEqual(split(/-/gu, 'MergedWithNext', '--a--'), ['-', '-a', '-', '-']);
  assert.deepEqual(split(/\w+/gu, 'Removed', 'Hello, world', true), ['Hello', 'world'], 'inverted: the gaps are removed');
  assert.deepEqual(split(/x/gu, 'Isolated', ''), []);
  assert.deepEqual(split(/x/gu, 'Isolated', 'abc'), ['abc']);
});

test('Split (String pattern), Digits and ByteLevel pre-tokenizers', () => {
  const seq = (...pretokenizers: object[]) => ({ type: 'Sequence', pretokenizers: [...pretokenizers, PLAIN_BYTE_LEVEL] });
  assert.deepEqual(preTokenize(seq({ type: 'Split', pattern: { String: '.' }, behavior: 'Removed', invert: false }), 'a.b..c'), [
    'a',
    'b',
    'c',
  ]);
  assert.deepEqual(preTokenize(seq({ type: 'Digits', individual_digits: true }), 'Hey 123 friend!'), ['Hey ', '1', '2', '3', ' friend!']);
  assert.deepEqual(preTokenize(seq({ type: 'Digits', individual_digits: false }), 'Hey 123 friend!'), ['Hey ', '123', ' friend!']);
  assert.deepEqual(preTokenize(seq({ type: 'Digits', individual_digits: false }), 'x١٢y'), ['x', '١٢', 'y'], 'Unicode digits count');
  const gpt2 = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
  assert.deepEqual(preTokenize(gpt2, 'Hello my friend, how is your day going?'), [
    ' Hello',
    ' my',
    ' friend',
    ',',
    ' how',
    ' is',
    ' your',
    ' day',
    ' going',
    '?',
  ]);
  assert.deepEqual(preTokenize(gpt2, 'Hello there       dear'), [' Hello', ' there', '      ', ' dear']);
  assert.deepEqual(preTokenize(LLAMA3_PRE_TOKENIZER, "HE'S 2024!\n\n  ok"), ['HE', "'S", ' ', '202', '4', '!\n\n', ' ', ' ok']);
  assert.deepEqual(preTokenize(QWEN2_PRE_TOKENIZER, 'ab 12'), ['ab', ' ', '1', '2']);
});

test('pipelines that are not byte-level are refused clearly', () => {
  assert.throws(() => buildPreTokenizer({ type: 'Metaspace' } as never), /must end with ByteLevel/);
  assert.throws(
    () => buildPreTokenizer({ type: 'Sequence', pretokenizers: [PLAIN_BYTE_LEVEL, { type: 'Whitespace' }] } as never),
    /must end with ByteLevel/,
  );
  assert.throws(
    () => buildPreTokenizer({ type: 'Sequence', pretokenizers: [{ type: 'Whitespace' }, PLAIN_BYTE_LEVEL] } as never),
    /unsupported pre_tokenizer type 'Whitespace'/,
  );
  assert.throws(
    () => new Tokenizer(syntheticTokenizer({ normalizer: { type: 'Precompiled' } })),
    /unsupported normalizer type 'Precompiled'/,
  );
});

test('BPE merges: both merge formats give the same result, ranks decide the order', () => {
  // The example of HF's model.rs tests: 'unrelated' becomes one token.
  const merges: [string, string][] = [
    ['r', 'e'],
    ['a', 't'],
    ['e', 'd'],
    ['u', 'n'],
    ['at', 'ed'],
    ['re', 'l'],
    ['rel', 'ated'],
    ['un', 'related'],
  ];
  for (const legacyMerges of [false, true]) {
    const tok = new Tokenizer(syntheticTokenizer({ merges, legacyMerges }));
    assert.deepEqual(tok.tokenize('unrelated'), ['unrelated']);
    assert.deepEqual(tok.tokenize('related'), ['related']);
    assert.deepEqual(tok.tokenize('reated'), ['re', 'ated']);
    assert.equal(tok.decode(tok.encode('unrelated reated')), 'unrelated reated');
  }
  // Lower rank first: with ('b','c') ranked before ('a','b'), 'abc' is a + bc.
  const tok = new Tokenizer(
    syntheticTokenizer({
      merges: [
        ['b', 'c'],
        ['a', 'b'],
      ],
    }),
  );
  assert.deepEqual(tok.tokenize('abc'), ['a', 'bc']);
  // Equal pairs merge leftmost first: 'aaa' with (a,a) is aa + a.
  assert.deepEqual(new Tokenizer(syntheticTokenizer({ merges: [['a', 'a']] })).tokenize('aaa'), ['aa', 'a']);
});

test('ignore_merges takes a word that is in the vocabulary whole (Llama-3)', () => {
  const base = { merges: [['h', 'e']] as [string, string][], extraTokens: ['hello'], preTokenizer: LLAMA3_PRE_TOKENIZER };
  assert.deepEqual(new Tokenizer(syntheticTokenizer(base)).tokenize('hello'), ['he', 'l', 'l', 'o']);
  assert.deepEqual(new Tokenizer(syntheticTokenizer({ ...base, ignoreMerges: true })).tokenize('hello'), ['hello']);
  assert.deepEqual(new Tokenizer(syntheticTokenizer({ ...base, ignoreMerges: true })).tokenize('help'), ['he', 'l', 'p']);
});

test('added tokens: leftmost-longest, lstrip/rstrip, single_word, normalized', () => {
  const tok = new Tokenizer(
    syntheticTokenizer({
      normalizer: { type: 'Lowercase' },
      added: [
        { content: '[CLS]', special: true, normalized: false },
        { content: '<mask>', lstrip: true, rstrip: true, normalized: false },
        { content: 'ony', single_word: true, normalized: false },
        { content: 'yesterday', normalized: true },
        { content: '<a>', special: true, normalized: false },
        { content: '<a><b>', special: true, normalized: false },
      ],
    }),
  );
  assert.deepEqual(tok.tokenize('[CLS] Hi <mask> there'), ['[CLS]', 'Ġ', 'h', 'i', '<mask>', 't', 'h', 'e', 'r', 'e']);
  assert.deepEqual(tok.tokenize('ony Anthony ony'), ['ony', 'Ġ', 'a', 'n', 't', 'h', 'o', 'n', 'y', 'Ġ', 'ony']);
  assert.deepEqual(tok.tokenize('Yesterday'), ['yesterday'], 'normalized token matched after lowercasing');
  assert.deepEqual(tok.tokenize('[cls]'), ['[', 'c', 'l', 's', ']'], 'non-normalized token matched on the raw text only');
  assert.deepEqual(tok.tokenize('<a><b><a>'), ['<a><b>', '<a>'], 'longest match wins');
  const ids = tok.encode('[CLS] x');
  assert.equal(tok.decode(ids, { skipSpecialTokens: true }), ' x');
  assert.equal(tok.decode(ids), '[CLS] x');
});

test('normalizers: NFC (Qwen2), Sequence, Replace, Strip', () => {
  const nfc = new Tokenizer(syntheticTokenizer({ normalizer: { type: 'NFC' }, preTokenizer: QWEN2_PRE_TOKENIZER }));
  assert.deepEqual(nfc.tokenize('e\u0301'), ['Ã', '©'], 'NFC composes e + combining acute to é (c3 a9)');
  const seq = new Tokenizer(
    syntheticTokenizer({
      normalizer: {
        type: 'Sequence',
        normalizers: [
          { type: 'Strip', strip_left: true, strip_right: true },
          { type: 'Replace', pattern: { String: 'x' }, content: 'y' },
        ],
      },
    }),
  );
  assert.deepEqual(seq.tokenize('  axa '), ['a', 'y', 'a']);
  const none = new Tokenizer(syntheticTokenizer({ normalizer: { type: 'Sequence', normalizers: [] } }));
  assert.deepEqual(none.tokenize('e\u0301'), ['e', 'Ì', 'ģ']);
});

test('special tokens on request: TemplateProcessing, config flags, none by default', () => {
  const llama3 = syntheticTokenizer({
    added: [{ content: '<|begin_of_text|>', special: true, normalized: false }],
    postProcessor: {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [],
          special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [256], tokens: ['<|begin_of_text|>'] } },
        },
      ],
    },
  });
  const tok = new Tokenizer(llama3);
  assert.deepEqual(tok.encode('hi'), [104, 105]);
  assert.deepEqual(tok.encode('hi', { addSpecialTokens: true }), [256, 104, 105]);
  const withConfig = new Tokenizer(llama3, { add_bos_token: false, add_eos_token: true, eos_token: '<|begin_of_text|>' });
  assert.deepEqual(withConfig.encode('hi', { addSpecialTokens: true }), [104, 105, 256], 'config flags override the post-processor');
});

test('decoding: byte-level, split multi-byte characters, clean-up, unknown ids', () => {
  const tok = new Tokenizer(syntheticTokenizer(), { clean_up_tokenization_spaces: true });
  const ids = tok.encode('中 .');
  assert.equal(ids.length, 5);
  assert.equal(tok.decode(ids.slice(0, 2)), '\ufffd', 'a cut character decodes to U+FFFD, as from_utf8_lossy');
  assert.equal(tok.decode(ids), '中.', 'clean_up_tokenization_spaces from the config');
  assert.equal(tok.decode(ids, { cleanUpTokenizationSpaces: false }), '中 .');
  assert.throws(() => tok.decode([100000]), /unknown token id 100000/);
});
