/**
 * A run's reward functions from its config: built-ins by name and user modules by path.
 *
 *   "rewards": [
 *     "accuracy",                                         // weight 1, answer in the example's "answer"
 *     {"type": "format", "weight": 0.5},
 *     {"module": "./rewards/length.ts", "export": "short", "weight": 0.2}
 *   ]
 *
 * A module (TypeScript or JavaScript, path relative to the config) exports a function
 * (prompt, completion, example) → number | null (or a Promise of one); `export` names it (default:
 * the default export).
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { isObject, ObjectReader } from '../../train/config/reader.ts';
import { PosttrainError } from '../errors.ts';
import { accuracyReward, formatReward } from './builtin.ts';
import type { Reward, UserRewardFn } from './types.ts';

/** A reward as the config gives it, resolved (paths absolute), before loading. */
export type RewardSpec =
  | { type: 'accuracy'; name: string; weight: number; field: string }
  | { type: 'format'; name: string; weight: number }
  | { type: 'module'; name: string; weight: number; module: string; export: string };

/** Reads `rewards` of a run config (a list; absent: accuracy and format, weight 1 each — R1-Zero's). */
export function readRewardSpecs(r: ObjectReader, baseDir: string): RewardSpec[] {
  const raw = r.raw('rewards');
  const list: unknown[] = raw === undefined || raw === null ? ['accuracy', 'format'] : Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) r.fail('rewards', 'needs at least one reward function');
  const specs = list.map((item, i): RewardSpec => {
    const key = `rewards[${i}]`;
    if (item === 'accuracy') return { type: 'accuracy', name: 'accuracy', weight: 1, field: 'answer' };
    if (item === 'format') return { type: 'format', name: 'format', weight: 1 };
    if (!isObject(item)) r.fail(key, `must be "accuracy", "format" or an object, got ${JSON.stringify(item)}`);
    const o: ObjectReader = new ObjectReader(item, r.source, `${r.path}${key}.`);
    const weight = o.number('weight', 1);
    const module = o.string('module');
    const type = o.oneOf('type', ['accuracy', 'format', 'module'] as const, module !== undefined ? 'module' : 'accuracy');
    let spec: RewardSpec;
    if (type === 'module') {
      if (module === undefined) o.fail('module', 'missing: the path of a .ts/.js module exporting the reward function');
      const path = resolve(baseDir, module);
      const exportName = o.string('export') ?? 'default';
      spec = {
        type,
        name: o.string('name') ?? (exportName === 'default' ? basename(path).replace(/\.[cm]?[jt]s$/, '') : exportName),
        weight,
        module: path,
        export: exportName,
      };
    } else if (type === 'accuracy') {
      spec = { type, name: o.string('name') ?? 'accuracy', weight, field: o.string('field') ?? 'answer' };
    } else {
      spec = { type, name: o.string('name') ?? 'format', weight };
    }
    o.done();
    return spec;
  });
  const names = specs.map((s) => s.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) r.fail('rewards', `two reward functions are named '${dup}' (give one a "name")`);
  return specs;
}

/** Imports a user reward module and returns its function, with one clear error for each way it can be wrong. */
async function importReward(spec: Extract<RewardSpec, { type: 'module' }>): Promise<UserRewardFn> {
  if (!existsSync(spec.module)) throw new PosttrainError(`reward module ${spec.module}: no such file`);
  let ns: Record<string, unknown>;
  try {
    // Through tsx, so a .ts module loads whatever its package's module type (as the CLI loads itself).
    ns = (await tsImport(pathToFileURL(spec.module).href, import.meta.url)) as Record<string, unknown>;
  } catch (e) {
    throw new PosttrainError(`reward module ${spec.module} failed to load: ${(e as Error).message}`, { cause: e });
  }
  // A module compiled as CommonJS arrives as { default: module.exports }.
  const inner = typeof ns.default === 'object' && ns.default !== null ? (ns.default as Record<string, unknown>) : {};
  const mod: Record<string, unknown> = { ...inner, ...ns };
  if (typeof mod[spec.export] !== 'function' && typeof inner[spec.export] === 'function') mod[spec.export] = inner[spec.export];
  const fn = mod[spec.export];
  if (typeof fn !== 'function') {
    const exported = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    throw new PosttrainError(
      `reward module ${spec.module} has no function export '${spec.export}' (its functions: ${exported.join(', ') || 'none'})`,
    );
  }
  return fn as UserRewardFn;
}

/** The reward functions of `specs`, ready to score. */
export async function loadRewards(specs: readonly RewardSpec[]): Promise<Reward[]> {
  const out: Reward[] = [];
  for (const s of specs) {
    if (s.type === 'accuracy') out.push({ name: s.name, weight: s.weight, score: accuracyReward(s.field) });
    else if (s.type === 'format') out.push({ name: s.name, weight: s.weight, score: formatReward() });
    else {
      const fn = await importReward(s);
      out.push({ name: s.name, weight: s.weight, score: (ctx) => fn(ctx.prompt, ctx.completion, ctx.example), source: s.module });
    }
  }
  return out;
}
