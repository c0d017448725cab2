// `dsts serve` run as a user runs it, for the CLI tests: a child process that prints its address
// and serves until SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PATIENCE_MS } from '../helpers/patience.ts';

export const DSTS = fileURLToPath(new URL('../../bin/dsts.js', import.meta.url));

/**
 * Runs `dsts serve --port 0 <args>`, waits for the printed web-chat address, calls `check` with it
 * and everything printed so far, then SIGTERMs the server, which must exit 0.
 */
export async function serving(args: string[], check: (url: string, printed: string) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, [DSTS, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const end = Date.now() + PATIENCE_MS;
    let url: string | undefined;
    while (!url && Date.now() < end && child.exitCode === null) {
      url = /web chat\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1];
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, `no address printed: ${out}`);
    await check(url, out);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'it stops on SIGTERM (nothing keeps it running)');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}
