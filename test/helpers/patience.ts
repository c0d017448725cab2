/**
 * How long a test waits for a child process or for output before calling it hung. These limits only
 * catch hangs, never measure speed, so they are generous: a machine loaded by parallel installs,
 * browsers and servers can be many times slower than usual. DSTS_TEST_PATIENCE_MS overrides.
 */
export const PATIENCE_MS = Number(process.env.DSTS_TEST_PATIENCE_MS) || 600_000;
