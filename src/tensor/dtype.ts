/**
 * Storage dtypes. Compute happens in f32 (f64 for gradient checks); the narrow dtypes hold weights
 * and are decoded inside kernels or by an explicit conversion.
 */
export type DType = 'f32' | 'f64' | 'bf16' | 'f16' | 'e4m3' | 'e5m2' | 'i8' | 'i4' | 'i32' | 'u8';

/** The typed array that stores each dtype (bf16/f16 and fp8 keep their raw bits). */
export interface ArrayOf {
  f32: Float32Array;
  f64: Float64Array;
  bf16: Uint16Array;
  f16: Uint16Array;
  e4m3: Uint8Array;
  e5m2: Uint8Array;
  i8: Int8Array;
  /** Two 4-bit codes per byte, in 32-wide blocks (see kernels/types.ts `QuantWeight`). */
  i4: Uint8Array;
  i32: Int32Array;
  u8: Uint8Array;
}

export type Storage = ArrayOf[DType];
export type FloatDType = 'f32' | 'f64';
export type FloatStorage = Float32Array | Float64Array;

const ctors = {
  f32: Float32Array,
  f64: Float64Array,
  bf16: Uint16Array,
  f16: Uint16Array,
  e4m3: Uint8Array,
  e5m2: Uint8Array,
  i8: Int8Array,
  i4: Uint8Array,
  i32: Int32Array,
  u8: Uint8Array,
} as const;

/** Storage elements that hold n values (two 4-bit codes share a byte). */
export function storageLength(dtype: DType, n: number): number {
  return dtype === 'i4' ? Math.ceil(n / 2) : n;
}

export function allocate<D extends DType>(dtype: D, n: number): ArrayOf[D] {
  return new ctors[dtype](storageLength(dtype, n)) as ArrayOf[D];
}

export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype === 'f32' || dtype === 'f64';
}

/** Result dtype of arithmetic on two compute tensors: f64 wins, so checks stay in f64 throughout. */
export function promote(a: DType, b: DType): FloatDType {
  return a === 'f64' || b === 'f64' ? 'f64' : 'f32';
}
