// The Oniguruma → JavaScript regex translator: each construct it rewrites, checked by what the
// translated regex matches (Oniguruma semantics as documented in its doc/RE and regsyntax.c).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileOniguruma, translateOniguruma, TokenizerError } from '../../src/tokenizer/index.ts';

/** All matches of an Oniguruma pattern in `text`, as HF's find_iter would list them. */
function matches(pattern: string, text: string): string[] {
  return [...text.matchAll(compileOniguruma(pattern))].map((m) => m[0]);
}
const full = (pattern: string, text: string) =>
  new RegExp(`^(?:${translateOniguruma(pattern).source})$`, translateOniguruma(pattern).flags).test(text);

test('released tokenizer patterns compile unchanged in meaning', () => {
  const deepseek =
    '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+';
  assert.deepEqual(matches(deepseek, "Hello, world!  it's"), ['Hello', ',', ' world', '!', ' ', ' it', "'s"]);
  const llama3 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  assert.deepEqual(matches(llama3, "I'M DON'T 12345"), ['I', "'M", ' DON', "'T", ' ', '123', '45']);
  assert.equal(translateOniguruma(llama3).flags, 'u');
});

test('(?i:…) scoped and (?i) isolated options expand case variants', () => {
  assert.ok(full("(?i:'s)", "'S"));
  assert.ok(full("(?i:'s)", "'\u017f"), 'long s folds to s, as in Oniguruma');
  assert.ok(full('(?i:k)', '\u212a'), 'Kelvin sign folds to k');
  assert.ok(!full('a(?i:b)', 'AB'));
  assert.ok(full('a(?i)b', 'aB'));
  // Oniguruma: an isolated option groups the rest, so a(?i)b|c is a(?i:b|c), unlike Perl.
  assert.ok(full('a(?i)b|c', 'aC'));
  assert.ok(!full('a(?i)b|c', 'c'));
  assert.ok(full('(?i)a(?-i)b', 'Ab'));
  assert.ok(!full('(?i)a(?-i)b', 'AB'));
  assert.ok(full('(?i:[a-c]x)', 'BX'));
  assert.ok(!full('(?i:[^a-c])', 'B'));
});

test('possessive quantifiers and atomic groups do not give back', () => {
  assert.deepEqual(matches('a*+a', 'aaa'), []);
  assert.deepEqual(matches('a*a', 'aaa'), ['aaa']);
  assert.deepEqual(matches('"[^"]++"', '"x" "yy"'), ['"x"', '"yy"']);
  assert.ok(full('(?>ab|a)c', 'abc'));
  assert.ok(!full('(?>a|ab)c', 'abc'), 'atomic group keeps its first choice');
  assert.ok(full('(?:a|ab)c', 'abc'));
  assert.ok(full('x?+y', 'xy') && full('x?+y', 'y'));
});

test('Oniguruma interval forms', () => {
  assert.ok(full('x{,2}', '') && full('x{,2}', 'xx') && !full('x{,2}', 'xxx'));
  assert.ok(full('x{2}+', 'xxxx'), '{n}+ repeats the interval in Oniguruma syntax');
  assert.ok(full('x{1,2}+', 'xxxxx'));
  assert.ok(full('x{2}?', '') && full('x{2}?', 'xx'), 'fixed interval then ? is optional, not lazy');
  assert.ok(full('a{x', 'a{x'), 'a brace that is no interval is literal');
  assert.ok(full('a}]', 'a}]'));
});

test('shorthand classes are Unicode, as in Oniguruma', () => {
  assert.ok(full('\\s', '\u0085'), 'NEL is whitespace');
  assert.ok(full('\\s', '\u3000') && full('\\s', '\u00a0') && full('\\s', '\u2029'));
  assert.ok(!full('\\s', '\ufeff'), 'BOM is not whitespace (JavaScript \\s says it is)');
  assert.ok(full('\\S', '\ufeff'));
  assert.ok(full('\\d', '\u0663') && !full('\\d', '\u00bd'), '\\d is Nd');
  assert.ok(full('\\w+', 'é中_\u0301'));
  assert.ok(!full('\\W', 'é'));
  assert.ok(full('\\h+', '09afAF') && !full('\\h', 'g'), '\\h is a hex digit in Oniguruma');
  assert.ok(full('[\\s\\d]+', ' 1\u0663\u3000'));
  assert.deepEqual(matches('\\bé\\w*', 'café éclair'), ['éclair'], '\\b uses Unicode word characters');
});

test('negated shorthands inside classes use v-mode nested classes', () => {
  const t = translateOniguruma('[\\S\\d]');
  assert.equal(t.flags, 'v');
  assert.ok(full('[\\S\\d]+', 'ab12'));
  assert.ok(!full('[^\\S]', 'a') && full('[^\\S]', ' '));
  assert.ok(full('[a-z&&[^aeiou]]+', 'xyz') && !full('[a-z&&[^aeiou]]', 'e'));
  assert.ok(full('[[:alpha:]]+', 'aé中') && !full('[[:alpha:]]', '1'));
  assert.ok(full('[[:^alpha:]]', '1'));
});

test('properties, scripts, escapes and anchors', () => {
  assert.ok(full('\\p{Han}+', '中文') && !full('\\p{Han}', 'a'));
  assert.ok(full('\\p{^L}', '1') && full('\\P{L}', '1') && full('\\pL', 'a'));
  assert.ok(full('\\p{Hiragana}\\p{Katakana}', 'ひカ'));
  assert.ok(full('[\\p{Alpha}]', 'a'));
  assert.ok(full('\\x{263A}\\x41\\u00e9\\101', '☺Aé\u0041'.slice(0, 3) + 'A'));
  assert.ok(full('\\"\\\'\\-\\#\\,', `"'-#,`), 'identity escapes of punctuation');
  assert.ok(full('[\\"\\-\\\\]+', '"-\\'));
  assert.ok(full('.', '\r') && !full('.', '\n'), 'dot excludes only LF');
  assert.deepEqual(matches('^b', 'a\nb'), ['b'], '^ is a line anchor');
  assert.deepEqual(matches('a$', 'a\na'), ['a', 'a'], '$ is a line anchor');
  assert.deepEqual(matches('\\Aa', 'a\na'), ['a']);
  assert.deepEqual(matches('a\\z', 'a\na'), ['a']);
  assert.ok(full('\\R', '\r\n') && full('\\R', '\u2028'));
  assert.ok(full('(a)\\1', 'aa') && !full('(a)\\1', 'ab'), 'back-references survive group renaming');
  assert.ok(full('(?<x>a)\\k<x>', 'aa'));
  assert.ok(full('a(?#comment)b', 'ab'));
});

test('unsupported constructs fail with a TokenizerError naming them', () => {
  for (const p of ['\\g<1>', 'a\\K', '(?~abc)', '(?m:.)', '\\X', '(a', 'a)', '*a', '[a']) {
    assert.throws(() => translateOniguruma(p), TokenizerError, p);
  }
  assert.throws(() => translateOniguruma('\\p{NoSuchProperty}'), /unsupported Unicode property/);
});
