/**
 * The element types a safetensors file can declare, how many bytes each takes, and the typed array
 * that holds each one's raw little-endian values. Narrow floats keep their bits (BF16/F16 in a
 * Uint16Array, FP8 in a Uint8Array); `src/tensor/codecs.ts` turns them into f32 when needed.
 */

/** Safetensors dtype names, in the order of the reference (Rust) implementation's `Dtype` enum. */
export const SAFETENSORS_DTYPES = [
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'F64',
  'I64',
  'U64',
] as const;

export type SafetensorsDType = (typeof SAFETENSORS_DTYPES)[number];

/** The typed array storing each dtype. */
export interface SafetensorsArrayOf {
  BOOL: Uint8Array;
  U8: Uint8Array;
  I8: Int8Array;
  F8_E5M2: Uint8Array;
  F8_E4M3: Uint8Array;
  I16: Int16Array;
  U16: Uint16Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I32: Int32Array;
  U32: Uint32Array;
  F32: Float32Array;
  F64: Float64Array;
  I64: BigInt64Array;
  U64: BigUint64Array;
}

export type SafetensorsArray = SafetensorsArrayOf[SafetensorsDType];

/**
 * A tensor as stored: dtype, shape and its elements in the matching typed array. A discriminated
 * union on `dtype`, so `if (t.dtype === 'BF16') t.data` is a Uint16Array to the type checker.
 */
export type StoredTensor = {
  [D in SafetensorsDType]: { dtype: D; shape: readonly number[]; data: SafetensorsArrayOf[D] };
}[SafetensorsDType];

type TypedArrayCtor = { new (buffer: ArrayBuffer, byteOffset: number, length: number): SafetensorsArray; BYTES_PER_ELEMENT: number };

const ctors: Record<SafetensorsDType, TypedArrayCtor> = {
  BOOL: Uint8Array,
  U8: Uint8Array,
  I8: Int8Array,
  F8_E5M2: Uint8Array,
  F8_E4M3: Uint8Array,
  I16: Int16Array,
  U16: Uint16Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I32: Int32Array,
  U32: Uint32Array,
  F32: Float32Array,
  F64: Float64Array,
  I64: BigInt64Array,
  U64: BigUint64Array,
};

const known = new Set<string>(SAFETENSORS_DTYPES);

export function isSafetensorsDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && known.has(s);
}

/** Bytes per element of `dtype`. */
export function dtypeSize(dtype: SafetensorsDType): number {
  return ctors[dtype].BYTES_PER_ELEMENT;
}

/** Rank in the reference implementation's enum; the writer lays tensors out by descending rank. */
export function dtypeRank(dtype: SafetensorsDType): number {
  return SAFETENSORS_DTYPES.indexOf(dtype);
}

/** Views `length` elements of `dtype` at `byteOffset` of `buffer` (which must be aligned for it). */
export function viewAs<D extends SafetensorsDType>(
  dtype: D,
  buffer: ArrayBuffer,
  byteOffset: number,
  length: number,
): SafetensorsArrayOf[D] {
  return new ctors[dtype](buffer, byteOffset, length) as SafetensorsArrayOf[D];
}

/** Whether `data` is the typed array that stores `dtype` (e.g. a Uint16Array for BF16). */
export function holdsDType(dtype: SafetensorsDType, data: unknown): boolean {
  return data instanceof ctors[dtype];
}

/** The number of elements of a shape (1 for a scalar's empty shape). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
