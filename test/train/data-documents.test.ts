// Reading corpus files as documents: the three plain-text modes, JSONL, long lines cut on UTF-8
// boundaries, CRLF, chunk boundaries inside multi-byte characters — and resuming from the cursor
// after any piece gives exactly the pieces an uninterrupted read gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DocumentReader, type DocumentOptions, type Piece } from '../../src/train/data/documents.ts';
import { LineReader } from '../../src/train/data/lines.ts';
import { listCorpusFiles, type CorpusFile } from '../../src/train/data/files.ts';
import { TrainError } from '../../src/train/errors.ts';
import { tempDir } from './helpers.ts';

function file(dir: string, name: string, content: string): CorpusFile {
  const path = join(dir, name);
  writeFileSync(path, content);
  return listCorpusFiles([path], 'test')[0]!;
}

function readAll(f: CorpusFile, o: DocumentOptions): Piece[] {
  const r = new DocumentReader(f, o);
  const out: Piece[] = [];
  for (let p = r.next(); p; p = r.next()) out.push(p);
  r.close();
  return out;
}

/** The documents' texts, joining each document's pieces. */
function docs(pieces: Piece[]): string[] {
  const out: string[] = [];
  let cur = '';
  for (const p of pieces) {
    cur += p.text;
    if (p.docEnd) {
      out.push(cur);
      cur = '';
    }
  }
  assert.equal(cur, '', 'the last piece ends its document');
  return out;
}

const TEXT = 'first line\nsecond line\n\n\nthird para\r\nstill third\n\nlast, no newline';

test('plain text: paragraph, line and file documents', (t) => {
  const dir = tempDir(t);
  const f = file(dir, 'a.txt', TEXT);
  const base = { jsonlField: 'text' };
  assert.deepEqual(docs(readAll(f, { ...base, textDocuments: 'paragraph' })), [
    'first line\nsecond line',
    'third para\nstill third',
    'last, no newline',
  ]);
  assert.deepEqual(docs(readAll(f, { ...base, textDocuments: 'line' })), [
    'first line',
    'second line',
    'third para',
    'still third',
    'last, no newline',
  ]);
  assert.deepEqual(docs(readAll(f, { ...base, textDocuments: 'file' })), [
    'first line\nsecond line\n\n\nthird para\nstill third\n\nlast, no newline',
  ]);
  const numbers = readAll(f, { ...base, textDocuments: 'paragraph' }).map((p) => p.doc);
  assert.deepEqual(numbers, [0, 1, 2]);
});

test('JSONL: the text field of each record; errors name file and line', (t) => {
  const dir = tempDir(t);
  const f = file(dir, 'a.jsonl', '{"text": "héllo"}\n\n{"text": "wörld", "id": 2}\n{"body": "b"}\n');
  const o = { textDocuments: 'paragraph' as const, jsonlField: 'text' };
  const r = new DocumentReader(f, o);
  assert.equal(r.next()!.text, 'héllo');
  assert.equal(r.next()!.text, 'wörld');
  assert.throws(
    () => r.next(),
    (e: Error) => e instanceof TrainError && /a\.jsonl:4: expected an object with a string 'text' field/.test(e.message),
  );
  r.close();
  const bad = file(dir, 'b.jsonl', '{"text": "ok"}\n{"text": nope}\n');
  assert.throws(() => readAll(bad, o), /b\.jsonl:2: not valid JSON/);
});

test('lines: CRLF, multi-byte characters across chunk boundaries, no final newline', (t) => {
  const dir = tempDir(t);
  const text = 'αβγδε€😀 line one\r\nline two — ñ\n😀😀😀\nend';
  const path = join(dir, 'u.txt');
  writeFileSync(path, text);
  for (const chunk of [1, 2, 3, 5, 7, 64]) {
    const r = new LineReader(path, 0, { chunkBytes: chunk });
    const lines: string[] = [];
    for (let l = r.next(); l; l = r.next()) lines.push(l.text);
    r.close();
    assert.deepEqual(lines, ['αβγδε€😀 line one', 'line two — ñ', '😀😀😀', 'end'], `chunk ${chunk}`);
  }
});

test('an over-long text line is cut into pieces on character boundaries; JSONL lines grow the buffer', (t) => {
  const dir = tempDir(t);
  const long = '€'.repeat(50) + 'x' + '😀'.repeat(20);
  const f = file(dir, 'long.txt', `${long}\nshort\n`);
  const pieces = readAll(f, { textDocuments: 'line', jsonlField: 'text', chunkBytes: 16 });
  assert.ok(pieces.filter((p) => !p.docEnd).length > 5, 'the long line came in many pieces');
  assert.deepEqual(docs(pieces), [long, 'short']);
  const j = file(dir, 'long.jsonl', JSON.stringify({ text: long }) + '\n');
  assert.deepEqual(docs(readAll(j, { textDocuments: 'line', jsonlField: 'text', chunkBytes: 16 })), [long]);
});

test('resuming from the cursor after any piece continues exactly', (t) => {
  const dir = tempDir(t);
  const paras = Array.from({ length: 30 }, (_, i) => `para ${i} ` + 'wörd '.repeat(i % 7) + '\n' + '😀 second line '.repeat(i % 3));
  const f = file(dir, 'r.txt', paras.join('\n\n') + '\n' + 'z'.repeat(100));
  for (const mode of ['paragraph', 'line', 'file'] as const) {
    const o: DocumentOptions = { textDocuments: mode, jsonlField: 'text', chunkBytes: 13, pieceChars: 40 };
    const all = readAll(f, o);
    assert.ok(all.length > 10, `${mode}: several pieces`);
    for (let k = 0; k < all.length; k++) {
      const r = new DocumentReader(f, o, all[k]!.cursor);
      const rest: Piece[] = [];
      for (let p = r.next(); p; p = r.next()) rest.push(p);
      r.close();
      assert.deepEqual(
        rest.map((p) => [p.text, p.doc, p.docEnd]),
        all.slice(k + 1).map((p) => [p.text, p.doc, p.docEnd]),
        `${mode}: resume after piece ${k}`,
      );
    }
  }
});

test('corpus folders: recursive, sorted, only text and JSONL, hidden entries skipped', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'c/sub/deeper'), { recursive: true });
  mkdirSync(join(dir, 'c/.git'));
  writeFileSync(join(dir, 'c/b.txt'), 'b');
  writeFileSync(join(dir, 'c/a.jsonl'), '{"text":"a"}');
  writeFileSync(join(dir, 'c/sub/deeper/z.md'), 'z');
  writeFileSync(join(dir, 'c/sub/image.png'), 'x');
  writeFileSync(join(dir, 'c/.git/x.txt'), 'x');
  writeFileSync(join(dir, 'plain.dat'), 'p');
  const files = listCorpusFiles([join(dir, 'c'), join(dir, 'plain.dat')], 'data.train');
  assert.deepEqual(
    files.map((f) => [f.key, f.kind]),
    [
      ['a.jsonl', 'jsonl'],
      ['b.txt', 'text'],
      ['sub/deeper/z.md', 'text'],
      ['plain.dat', 'text'],
    ],
  );
  mkdirSync(join(dir, 'empty'));
  assert.throws(() => listCorpusFiles([join(dir, 'empty')], 'data.train'), /data\.train: folder .* holds no \.txt/);
  assert.throws(
    () => listCorpusFiles([join(dir, 'nope')], 'data.train'),
    (e: Error) => e instanceof TrainError && /no such file or folder/.test(e.message),
  );
});
