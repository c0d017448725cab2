/**
 * Which models `dsts serve` serves: each `--model [name=]<dir>` in order, else every folder of a
 * models directory that holds a config.json, by name (so models/deepseek-ts-nano, the poetry model,
 * comes before models/deepseek-ts-nano-r1 and is the default).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from './errors.ts';
import type { ServedModelSpec } from '../serve/index.ts';

/** The models shipped with the project, served when no --model is given. */
export const MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

/**
 * `--model` values: `<dir>` or `<name>=<dir>` (as vLLM's `--lora-modules name=path`). A value that is
 * itself an existing path is a folder even if it holds an '='.
 */
export function parseModelFlags(values: readonly string[], name: string | undefined): ServedModelSpec[] {
  const specs = values.map((v): ServedModelSpec => {
    const m = /^([^/=]+)=(.+)$/.exec(v);
    return m && !existsSync(v) ? { name: m[1]!, dir: m[2]! } : { dir: v };
  });
  if (name !== undefined) {
    if (specs.length !== 1) throw new UserError('--name names the one --model; with several, name each as --model <name>=<dir>');
    specs[0]!.name ??= name;
  }
  for (const s of specs) if (!existsSync(s.dir)) throw new UserError(`no model folder at ${s.dir}`);
  return specs;
}

/** Every folder of `dir` holding a config.json, by name. */
export function modelsIn(dir: string): ServedModelSpec[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`no models folder at ${dir}`);
  const specs = readdirSync(dir)
    .sort()
    .map((f) => resolve(dir, f))
    .filter((d) => existsSync(join(d, 'config.json')))
    .map((d) => ({ dir: d }));
  if (specs.length === 0) throw new UserError(`no model in ${dir} (no folder with a config.json): train one first, or pass --model <dir>`);
  return specs;
}
