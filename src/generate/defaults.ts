/**
 * A checkpoint's own generation defaults, as Hugging Face checkpoints ship them: `generation_config.json`
 * holds the sampling its authors recommend (`do_sample`, `temperature`, `top_p`, `top_k`, `min_p`,
 * `repetition_penalty`) and extra stop ids (`eos_token_id`). A base model decoded greedily loops, and
 * R1 is documented to repeat itself at low temperature, so these defaults matter: without them the
 * CLI and the server would fall back to settings the model was never meant to run with.
 *
 * Precedence everywhere: what the user asks for (flag, request field) → the checkpoint's
 * generation_config.json → DeepSeek-R1's recommendation (temperature 0.6, top-p 0.95) for an R1-style
 * chat template (one that reasons in `<think>`) → the caller's own default.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError } from '../io/errors.ts';
import type { SamplingParams } from './sampler.ts';

/** DeepSeek-R1's usage recommendation (its model card): temperature 0.5–0.7, 0.6 suggested; top-p 0.95. */
export const R1_SAMPLING: Readonly<SamplingParams> = Object.freeze({ temperature: 0.6, topP: 0.95 });

export interface GenerationDefaults {
  /** Sampling defaults (empty: none known). */
  sampling: SamplingParams;
  /** Where `sampling` came from. */
  source: 'generation_config.json' | 'r1-template' | 'none';
  /** Stop ids listed by generation_config.json. */
  eosTokenIds: number[];
}

/** Whether a chat template is DeepSeek-R1-style: it reasons in `<think>` blocks. */
export function isReasoningTemplate(template: string): boolean {
  return template.includes('<think>') || template.includes('</think>');
}

type Json = Record<string, unknown>;

function numberField(file: string, g: Json, key: string, ok: (n: number) => boolean, range: string): number | undefined {
  const v = g[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !ok(v)) throw new FormatError(file, `expected a number ${range}, got ${JSON.stringify(v)}`, key);
  return v;
}

/** The sampling fields of a parsed generation_config.json (only those present, as vLLM reads them). */
export function samplingFromGenerationConfig(g: Json, file = 'generation_config.json'): SamplingParams {
  const p: SamplingParams = {};
  const temperature = numberField(file, g, 'temperature', (n) => n >= 0 && Number.isFinite(n), '≥ 0');
  const topP = numberField(file, g, 'top_p', (n) => n > 0 && n <= 1, 'in (0, 1]');
  const topK = numberField(file, g, 'top_k', (n) => Number.isInteger(n) && n >= 0, '(an integer ≥ 0)');
  const minP = numberField(file, g, 'min_p', (n) => n >= 0 && n <= 1, 'in [0, 1]');
  const rep = numberField(file, g, 'repetition_penalty', (n) => n > 0 && Number.isFinite(n), '> 0');
  if (temperature !== undefined) p.temperature = temperature;
  if (topP !== undefined && topP < 1) p.topP = topP;
  if (topK !== undefined && topK > 0) p.topK = topK;
  if (minP !== undefined && minP > 0) p.minP = minP;
  if (rep !== undefined && rep !== 1) p.repetitionPenalty = rep;
  // Transformers' semantics: do_sample false is greedy whatever the temperature says.
  if (g.do_sample === false) return { ...p, temperature: 0 };
  return p;
}

/** Reads `dir`/generation_config.json (absent: nothing). A malformed file is a FormatError. */
export function readGenerationConfig(dir: string): { sampling: SamplingParams; eosTokenIds: number[] } | null {
  const path = join(dir, 'generation_config.json');
  if (!existsSync(path)) return null;
  let g: unknown;
  try {
    g = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new FormatError(path, `not valid JSON: ${(e as Error).message}`);
  }
  if (typeof g !== 'object' || g === null || Array.isArray(g)) throw new FormatError(path, 'expected a JSON object');
  const e = (g as Json).eos_token_id;
  const eosTokenIds = (Array.isArray(e) ? e : [e]).filter((x): x is number => Number.isInteger(x) && (x as number) >= 0);
  return { sampling: samplingFromGenerationConfig(g as Json, path), eosTokenIds };
}

/** The defaults for a model folder whose chat template is `template` ('' when it has none). */
export function generationDefaults(dir: string, template: string): GenerationDefaults {
  const g = readGenerationConfig(dir);
  const eosTokenIds = g?.eosTokenIds ?? [];
  if (g && Object.keys(g.sampling).length > 0) return { sampling: g.sampling, source: 'generation_config.json', eosTokenIds };
  if (isReasoningTemplate(template)) return { sampling: { ...R1_SAMPLING }, source: 'r1-template', eosTokenIds };
  return { sampling: {}, source: 'none', eosTokenIds };
}

/** `base` with the fields `over` sets replacing its own (undefined fields of `over` do not erase). */
export function mergeSampling(base: SamplingParams, over: SamplingParams): SamplingParams {
  const out: SamplingParams = { ...base };
  for (const [k, v] of Object.entries(over) as [keyof SamplingParams, number | undefined][]) if (v !== undefined) out[k] = v;
  return out;
}
