/**
 * Dtype codecs: pure functions between f32 and the narrow storage formats (bf16, f16, FP8 e4m3fn and
 * e5m2), bit-exact with PyTorch's CPU conversions. Scalar forms take/return JS numbers (encoders
 * round the number to f32 first); whole-array forms work on raw bits, so NaN payloads survive.
 * Nothing here knows about tensors: kernels call these to dequantise on the fly.
 */
export { bf16FromF32, f32FromBf16, encodeBf16, decodeBf16 } from './codecs/bf16.ts';
export { f16FromF32, f32FromF16, encodeF16, decodeF16 } from './codecs/f16.ts';
export { e4m3FromF32, e5m2FromF32, f32FromE4m3, f32FromE5m2, encodeE4m3, encodeE5m2, decodeE4m3, decodeE5m2 } from './codecs/fp8.ts';
export { I4_BLOCK, decodeI4Codes, encodeI4Codes } from './codecs/int4.ts';
