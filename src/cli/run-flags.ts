/**
 * What `dsts sft`, `dsts grpo` and `dsts distill` share on the command line: config overrides from
 * flags, Ctrl-C handling (the first finishes the step and saves a checkpoint, the second quits at
 * once), and the run between them (`runCommand`).
 */
import { resolve } from 'node:path';
import { numberFlag } from './args.ts';
import { UserError } from './errors.ts';
import { ProgressReporter } from '../train/progress.ts';
import { resolveCheckpoint } from '../train/checkpoint.ts';

export const RUN_FLAGS = {
  config: { type: 'string' },
  resume: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean' },
  steps: { type: 'string' },
  seed: { type: 'string' },
  lr: { type: 'string' },
  'checkpoint-interval': { type: 'string' },
  'log-interval': { type: 'string' },
  set: { type: 'string', multiple: true },
  quiet: { type: 'boolean' },
} as const;

export const RUN_FLAGS_USAGE = `  --config <run.json>        the run config
  --resume <dir>             continue a run (its latest checkpoint) or a given checkpoint; without
                             --config the run's saved config is used
  --out <dir>                output folder (overrides "out"; refused if it holds another run)
  --force                    start over in an output folder that already holds a run
  --steps <n>                total steps (overrides "steps"; extend a resumed run)
  --seed <n>                 seed of data order and sampling
  --lr <x>                   peak learning rate (optimizer.lr)
  --checkpoint-interval <n>  checkpoint every n steps (0: only at the end)
  --log-interval <n>         progress line every n steps when stderr is not a terminal
  --set <key=value>          any config key by dotted path, value as JSON (repeatable)
  --quiet                    no progress display`;

/** Dotted key → value from the flags (undefined where a flag was not given). */
export function runOverrides(v: Record<string, string | boolean | string[] | undefined>): Record<string, unknown> {
  const num = (name: string) => (v[name] === undefined ? undefined : numberFlag(v[name] as string, name, 0));
  const out: Record<string, unknown> = {
    steps: num('steps'),
    seed: num('seed'),
    'optimizer.lr': num('lr'),
    'checkpoint.interval': num('checkpoint-interval'),
    'log.interval': num('log-interval'),
    out: v.out === undefined ? undefined : resolve(v.out as string),
  };
  for (const kv of (v.set as string[] | undefined) ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UserError(`--set expects key=value, got '${kv}'`);
    const raw = kv.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw; // a bare word is a string
    }
    out[kv.slice(0, eq)] = value;
  }
  return out;
}

/** Runs `body` with SIGINT/SIGTERM turned into the abort of the signal it gets. */
export async function withInterrupts<T>(reporter: ProgressReporter, body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      reporter.message(`${sig} again: exiting without saving`);
      process.exit(130);
    }
    reporter.message(`${sig}: finishing this step and saving a checkpoint (press Ctrl-C again to quit now)`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await body(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** What a run returns that its command reports. */
export interface RunOutcome {
  step: number;
  interrupted: boolean;
  checkpoint: string | null;
  runDir: string;
}

/** What a command hands the run it starts. */
export interface RunHooks {
  resume: string | undefined;
  force: boolean;
  signal: AbortSignal;
  log: (line: string) => void;
}

/** How one of `dsts sft | grpo | distill` reads its config and starts its run. */
export interface RunCommandSpec<C, R extends RunOutcome> {
  name: string;
  /** The config from --config, with the flags' overrides. */
  load(file: string, overrides: Record<string, unknown>): C;
  /** The resumed run's own config, with the flags' overrides. */
  resumed(dir: string, overrides: Record<string, unknown>): C;
  /** The run's total steps and progress-line interval. */
  schedule(config: C): { steps: number; logInterval: number };
  start(config: C, hooks: RunHooks, reporter: ProgressReporter): Promise<R>;
  /** What the final checkpoint holds, for the closing line ('model', 'student'). */
  product?: string;
}

/**
 * Runs a post-training command from its parsed RUN_FLAGS: the config (--config, or the resumed run's
 * own), a progress reporter, Ctrl-C handling and the closing line. Returns the exit code (130 when
 * interrupted, after saying how to continue).
 */
export async function runCommand<C, R extends RunOutcome>(
  spec: RunCommandSpec<C, R>,
  values: Record<string, string | boolean | string[] | undefined>,
): Promise<number> {
  const configFile = values.config as string | undefined;
  const resume = values.resume as string | undefined;
  if (configFile === undefined && resume === undefined) throw new UserError(`${spec.name}: give --config <run.json> or --resume <dir>`);
  const o = runOverrides(values);
  let config: C;
  if (configFile !== undefined) {
    if (resume !== undefined && o.out === undefined) o.out = resolveCheckpoint(resume).runDir;
    config = spec.load(configFile, o);
  } else config = spec.resumed(resume!, o);
  const { steps, logInterval } = spec.schedule(config);
  const reporter = new ProgressReporter(process.stderr, logInterval);
  const result = await withInterrupts(reporter, (signal) =>
    spec.start(config, { resume, force: values.force === true, signal, log: (line) => reporter.message(line) }, reporter),
  );
  reporter.finish();
  if (result.interrupted) {
    reporter.message(`stopped at step ${result.step}/${steps}; continue with: dsts ${spec.name} --resume ${result.runDir}`);
    return 130;
  }
  const product = spec.product ?? 'model';
  reporter.message(`done: ${result.step} steps; ${product} → ${result.checkpoint ?? `the run's latest checkpoint in ${result.runDir}`}`);
  return 0;
}
