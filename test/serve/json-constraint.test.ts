import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonPrefix } from '../../src/serve/constrain/json-bytes.ts';
import { ConstraintChain } from '../../src/serve/constrain/constraint.ts';
import { ChoiceSegment, JsonSegment, LiteralSegment, ThinkingSegment } from '../../src/serve/constrain/segments.ts';
import { Rng } from '../../src/tensor/index.ts';

const utf8 = new TextEncoder();

function accepts(text: string, topObject = true): boolean {
  const p = new JsonPrefix(topObject);
  return p.feedAll(utf8.encode(text)) && p.complete;
}

function prefixOk(text: string): boolean {
  return new JsonPrefix(true).feedAll(utf8.encode(text));
}

test('complete JSON objects are accepted byte by byte', () => {
  for (const doc of [
    '{}',
    '{ }',
    '{"a":1}',
    '{"a": -0.5e+10, "b": [true, false, null, "x\\n\\u00e9"], "c": {"d": []}}',
    '{"emoji":"😀","cjk":"北京"}',
    '{\n  "nested": [[[]], {"k": 0}]\n}',
  ]) {
    assert.ok(accepts(doc), doc);
    assert.doesNotThrow(() => JSON.parse(doc));
  }
});

test('invalid text is refused at the first bad byte', () => {
  for (const bad of [
    '[1]',
    '"x"',
    '{a:1}',
    '{"a":01}',
    '{"a":1,}',
    '{"a" 1}',
    '{"a":tru}x',
    '{"a":"\u0001"}',
    '{"a":"\\x"}',
    '{}}',
    '{"a":1]',
  ]) {
    assert.equal(accepts(bad), false, bad);
  }
  assert.ok(prefixOk('{"a": [1, 2'), 'an unfinished prefix is fine');
  assert.equal(prefixOk('{"a": [1, 2}'), false);
  // UTF-8: overlongs, surrogates and stray continuation bytes are refused inside strings.
  for (const bytes of [[0xc0, 0x80], [0xed, 0xa0, 0x80], [0x80], [0xf5, 0x80, 0x80, 0x80]]) {
    const p = new JsonPrefix(true);
    assert.equal(p.feedAll(new Uint8Array([0x7b, 0x22, ...bytes])), false, bytes.join(','));
  }
});

test('closing() is the length of a shortest completion, and every step toward it exists', () => {
  // Random walks over bytes that keep the text valid; at each point, greedily following bytes that
  // lower closing() by one must finish the value in exactly closing() bytes.
  const rng = new Rng(7);
  const alphabet = utf8.encode('{}[]",:0123456789-+.eEtrufalsn \\u\n');
  const extra = [0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80];
  for (let walk = 0; walk < 200; walk++) {
    const p = new JsonPrefix(true);
    const steps = Math.floor(rng.uniform() * 40);
    for (let i = 0; i < steps && !p.complete; i++) {
      const pool = [...alphabet, ...extra];
      for (let tries = 0; tries < 50; tries++) {
        const b = pool[Math.floor(rng.uniform() * pool.length)]!;
        const q = p.clone();
        if (q.feed(b)) {
          p.feed(b);
          break;
        }
      }
    }
    let need = p.closing();
    const text: number[] = [];
    while (need > 0) {
      let moved = false;
      for (let b = 0; b < 256 && !moved; b++) {
        const q = p.clone();
        if (q.feed(b) && q.closing() === need - 1) {
          p.feed(b);
          text.push(b);
          moved = true;
        }
      }
      assert.ok(moved, `no byte lowers closing() from ${need}`);
      need--;
    }
    assert.ok(p.complete, 'closing() reached 0 but the value is not complete');
  }
});

/** A byte-level "vocabulary": ids 0..255 are single bytes, 256+ a few multi-byte tokens, 300 special. */
function toyBytes(): (Uint8Array | null)[] {
  const t: (Uint8Array | null)[] = [];
  for (let b = 0; b < 256; b++) t.push(new Uint8Array([b]));
  for (const s of ['{"', '":', ' "', 'true', '}\n', 'get_weather\n', 'get_time\n']) t.push(utf8.encode(s));
  t[300] = null;
  return t;
}

/** Runs a constraint with random choices among allowed tokens; returns the bytes produced. */
function drive(
  chain: ConstraintChain,
  bytes: (Uint8Array | null)[],
  budget: number,
  seed: number,
  fatal = true,
): { text: string; used: number } {
  const rng = new Rng(seed);
  const out: number[] = [];
  let used = 0;
  while (!chain.done && used < budget) {
    const left = budget - used;
    let id = chain.forced(left);
    if (id === null) {
      const allowed: number[] = [];
      for (let i = 0; i < bytes.length; i++) if (chain.allows(i, left)) allowed.push(i);
      assert.ok(allowed.length > 0, 'no token allowed');
      id = allowed[Math.floor(rng.uniform() * allowed.length)]!;
    }
    chain.accept(id);
    out.push(...(bytes[id] ?? []));
    used++;
  }
  return { text: new TextDecoder('utf-8', { fatal }).decode(new Uint8Array(out)), used };
}

test('a JSON segment always finishes within its token budget, even choosing at random', () => {
  const bytes = toyBytes();
  for (let seed = 1; seed <= 40; seed++) {
    const budget = 2 + (seed % 25);
    const { text, used } = drive(new ConstraintChain([new JsonSegment(bytes)]), bytes, budget, seed);
    assert.ok(used <= budget);
    const v = JSON.parse(text);
    assert.equal(typeof v, 'object');
    assert.ok(v !== null && !Array.isArray(v), text);
  }
});

test('literal, choice and JSON segments make a complete tool call within the budget', () => {
  const bytes = toyBytes();
  const lit = (s: string) => [...utf8.encode(s)]; // one id per byte in the toy vocabulary
  for (let seed = 1; seed <= 20; seed++) {
    const chain = new ConstraintChain([
      new LiteralSegment(lit('<call>')),
      new ChoiceSegment([utf8.encode('get_weather\n'), utf8.encode('get_time\n')], bytes),
      new JsonSegment(bytes),
      new LiteralSegment(lit('</call>')),
    ]);
    const { text } = drive(chain, bytes, 40, seed);
    const m = /^<call>(get_weather|get_time)\n([\s\S]*)<\/call>$/.exec(text);
    assert.ok(m, text);
    JSON.parse(m[2]!);
  }
});

test('a thinking budget forces the close tag, and a structured answer still fits after it', () => {
  const bytes = toyBytes();
  const close = [...utf8.encode('</think>')];
  const chain = new ConstraintChain([new ThinkingSegment(close, bytes, 5), new JsonSegment(bytes)]);
  // Free reasoning may hold any bytes; the JSON after it is checked strictly by JSON.parse.
  const { text } = drive(chain, bytes, 30, 3, false);
  const at = text.indexOf('</think>');
  assert.ok(at >= 0 && at <= 5, text);
  JSON.parse(text.slice(at + '</think>'.length));
  // A tight total budget also closes the thinking early, leaving room for '{}'.
  const tight = new ConstraintChain([new ThinkingSegment(close, bytes), new JsonSegment(bytes)]);
  const r = drive(tight, bytes, close.length + 2, 4, false);
  assert.equal(r.text.endsWith('</think>{}'), true, r.text);
});

test('whitespace runs outside strings are capped, so a weak model cannot pad the output with blanks', () => {
  assert.ok(accepts('{\n  "a": [\n    1\n  ]\n}'), 'pretty-printed JSON still fits');
  assert.ok(accepts('{"a": "      many spaces inside a string      "}'));
  assert.equal(prefixOk('   {'), false, 'at most two blanks before the object');
  assert.equal(prefixOk(`{${' '.repeat(7)}`), false, 'at most six blanks at depth one');
  assert.ok(prefixOk(`{${' '.repeat(6)}"a":${' '.repeat(6)}1`));
  const p = new JsonPrefix(true);
  assert.ok(p.feedAll(utf8.encode('{"a": [')));
  const c = p.clone();
  assert.ok(c.feedAll(utf8.encode(' '.repeat(10))), 'depth two allows ten');
  assert.equal(c.feedAll(utf8.encode(' ')), false);
});
