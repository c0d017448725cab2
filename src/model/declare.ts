/**
 * A model's parameters, declared once per module from the typed config: the HF tensor name, its
 * shape, how pre-training initialises it, and which part of the model it belongs to. The modules'
 * constructors read their tensors by these declarations, and initialisation (init.ts), parameter
 * counting (params.ts) and the load-time shape check (check.ts) are derived from the same list, so
 * the architecture is written in one place.
 */
import type { Tensor } from '../tensor/index.ts';
import type { Weights } from './weights.ts';

/** How pre-training starts a tensor: Normal(0, σ) matrices, ones for RMSNorm weights, zeros for biases. */
export type Init = 'normal' | 'ones' | 'zeros';

/** The part of the model a parameter is counted in (params.ts's breakdown). */
export type Part =
  'embedding' | 'lmHead' | 'attention' | 'norms' | 'denseMlp' | 'sharedExperts' | 'routedExperts' | 'router' | 'correctionBias';

export interface ParamDecl {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: Init;
  /** false for the router correction bias: the aux-loss-free balancer moves it, not gradients. */
  readonly grad: boolean;
  readonly part: Part;
  /** A routed expert's index (one token activates numExpertsPerTok of them). */
  readonly expert?: number;
  /** Set on the parameters of MTP module k (DeepSeek-V3 §2.2), which inference may go without. */
  readonly mtp?: number;
}

export function matrix(name: string, rows: number, cols: number, part: Part, expert?: number): ParamDecl {
  return { name, shape: [rows, cols], init: 'normal', grad: true, part, ...(expert === undefined ? {} : { expert }) };
}

export function norm(name: string, dim: number, part: Part = 'norms'): ParamDecl {
  return { name, shape: [dim], init: 'ones', grad: true, part };
}

export function bias(name: string, dim: number, part: Part, expert?: number): ParamDecl {
  return { name, shape: [dim], init: 'zeros', grad: true, part, ...(expert === undefined ? {} : { expert }) };
}

/** A module's declared parameters by field; optional fields are parameters a config may not have. */
export type ParamGroup<G> = { readonly [K in keyof G]: ParamDecl | undefined };

/** The tensors of a group, by the same fields (undefined where an optional declaration is absent). */
export type GroupTensors<G> = { [K in keyof G]-?: {} extends Pick<G, K> ? Tensor | undefined : Tensor };

/** Reads every declared tensor of a group from the weights (a missing one is a MissingWeightError). */
export function readGroup<G extends ParamGroup<G>>(w: Weights, group: G): GroupTensors<G> {
  const out: Record<string, Tensor | undefined> = {};
  for (const [field, decl] of Object.entries(group) as [string, ParamDecl | undefined][]) out[field] = decl ? w.get(decl.name) : undefined;
  return out as GroupTensors<G>;
}

/** Structured declarations (groups, arrays of groups, nested) flattened in declaration order. */
export function flattenDecls(tree: unknown, out: ParamDecl[] = []): ParamDecl[] {
  if (tree === undefined || tree === null || typeof tree !== 'object') return out;
  if (Array.isArray(tree)) {
    for (const t of tree) flattenDecls(t, out);
  } else if (isDecl(tree)) {
    out.push(tree);
  } else {
    for (const v of Object.values(tree)) flattenDecls(v, out);
  }
  return out;
}

function isDecl(v: object): v is ParamDecl {
  return 'name' in v && 'shape' in v && 'init' in v;
}

/** The declarations of `tree` marked as belonging to MTP module k. */
export function markMtp(decls: readonly ParamDecl[], k: number): ParamDecl[] {
  return decls.map((d) => ({ ...d, mtp: k }));
}
