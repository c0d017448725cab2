/**
 * How long a test waits for a child process or for output before calling it hung. These limits only
 * catch hangs, never measure speed, so they are generous: a machine loaded by parallel installs,
 * browsers and servers can be many times slower than usual. DSTS_TEST_PATIENCE_MS overrides.
 */
export const PATIENCE_MS = Number(process.env.DSTS_TEST_PATIENCE_MS) || 600_000;

/**
 * Polls `check` until it holds: for tests that wait on a state (a request running, a queue filled)
 * rather than sleeping a fixed time and hoping the state was reached. Fails after PATIENCE_MS.
 */
export async function until(check: () => boolean | Promise<boolean>, what: string, everyMs = 10): Promise<void> {
  const end = Date.now() + PATIENCE_MS;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${PATIENCE_MS / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
