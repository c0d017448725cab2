// End-to-end: `dsts chat` driven through a pipe, with a fixture model and a tiny tokenizer built to
// fit its 512-token vocabulary (its R1-style template opens <think>, so replies start as reasoning).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixture } from '../helpers/fixtures.ts';
import { writeTinyTokenizer } from '../generate/tiny-tokenizer.ts';
import { ReplyPrinter } from '../../src/cli/commands/chat.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';
import { embeddedModelReady } from '../../src/cli/commands/serve.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('dsts chat answers each line as it arrives, handles /reset, and exits on /exit with stdin still open', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsts-chat-'));
  try {
    writeTinyTokenizer(dir);
    const args = [
      'chat',
      '--model',
      fixture('models', 'deepseek_v3_tiny'),
      '--tokenizer',
      dir,
      '--max-tokens',
      '12',
      '--seed',
      '3',
      '--temperature',
      '1',
    ];
    const child = spawn(process.execPath, [join(root, 'bin/dsts.js'), ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    let closed = false;
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => ((closed = true), resolve(code))));
    // Waits on output, not on time: only a child that died, or a hang past PATIENCE_MS, fails it.
    const waitFor = async (pred: () => boolean, what: string) => {
      const t0 = Date.now();
      while (!pred()) {
        if (closed) throw new Error(`dsts chat exited before ${what}; stdout: ${out}; stderr: ${err}`);
        if (Date.now() - t0 > PATIENCE_MS) throw new Error(`timed out waiting for ${what}; stdout: ${out}; stderr: ${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    child.stdin.write('hello there\n');
    // The reply streams while stdin is still open: the model's thinking, prefixed as it is piped.
    await waitFor(() => out.includes('[think] '), 'the first reply');
    const first = out;
    child.stdin.write('/reset\n');
    await waitFor(() => out.includes('(conversation reset)'), '/reset');
    child.stdin.write('hello there\n');
    await waitFor(() => out.length > first.length + '(conversation reset)\n'.length, 'the second reply');
    child.stdin.write('/exit\n'); // not closing stdin: /exit alone must end it
    const code = await exited;
    assert.equal(code, 0, err);
    assert.equal(err, '');
    // After /reset the same question (same seed) gets the same reply: the history really was cleared.
    const [before, after] = out.split('(conversation reset)\n');
    assert.ok(before!.startsWith('[think] '), out);
    assert.equal(after, before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the reply printer shows reasoning apart: prefixed when piped, dimmed on a terminal', () => {
  const piped: string[] = [];
  const p = new ReplyPrinter({ write: (s: string) => piped.push(s) }, false);
  p.reasoning('first line\nsec');
  p.reasoning('ond line');
  p.content('The answer.');
  p.end();
  assert.equal(piped.join(''), '[think] first line\n[think] second line\n\nThe answer.\n');

  const tty: string[] = [];
  const t = new ReplyPrinter({ write: (s: string) => tty.push(s) }, true);
  t.reasoning('hmm');
  t.content('Yes.');
  t.end();
  assert.equal(tty.join(''), '\x1b[2mhmm\x1b[22m\n\nYes.\n');

  const plain: string[] = [];
  const n = new ReplyPrinter({ write: (s: string) => plain.push(s) }, false);
  n.content('No thinking here.');
  n.end();
  assert.equal(plain.join(''), 'No thinking here.\n');
});

test(
  'dsts chat takes the embedded model (no chat template: the plain layout, as serve) and survives a full context',
  { skip: !embeddedModelReady() && 'the embedded model is not trained' },
  () => {
    const lines = ['春', '秋', '夏', '冬', '雪', '月', '風', '花'].join('\n');
    const r = spawnSync(process.execPath, [join(root, 'bin/dsts.js'), 'chat', '--max-tokens', '120', '--seed', '1'], {
      cwd: root,
      input: `${lines}\n`,
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stderr.includes('no chat template'));
    assert.match(
      r.stderr,
      /^\(the conversation outgrew the model's context of 512 tokens: the oldest (exchange was|\d+ exchanges were) dropped; \/reset starts over\)$/m,
    );
    assert.ok(!/dsts: .*context/.test(r.stderr), `no turn failed: ${r.stderr}`);
    assert.ok(r.stdout.trim().split('\n').length >= 8, r.stdout);
  },
);

test('dsts generate samples with the model folder generation_config.json when no flag says otherwise', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsts-genconf-'));
  try {
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(fixture('models', 'deepseek_v3_tiny', f), join(dir, f));
    const run = (...args: string[]) => {
      const r = spawnSync(
        process.execPath,
        [join(root, 'bin/dsts.js'), 'generate', '--model', dir, '--ids', '1,2,3', '--max-tokens', '12', '--ignore-eos', '--json', ...args],
        { cwd: root, encoding: 'utf8', timeout: 120_000 },
      );
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout).ids as number[];
    };
    const greedy = run();
    const sampled = run('--temperature', '1.5', '--seed', '5');
    assert.notDeepEqual(sampled, greedy);
    writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ do_sample: true, temperature: 1.5 }));
    assert.deepEqual(run('--seed', '5'), sampled, 'the checkpoint default temperature is used');
    assert.deepEqual(run('--seed', '5', '--temperature', '0'), greedy, 'a flag wins');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
