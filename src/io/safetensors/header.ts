/**
 * The safetensors header: after an 8-byte little-endian length N come N bytes of UTF-8 JSON mapping
 * each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets relative to the data that
 * follows the header), plus an optional "__metadata__" of string → string. This module validates a
 * header completely, so reading a tensor later cannot run off the file or misread its bytes.
 */
import { FormatError } from '../errors.ts';
import { dtypeSize, isSafetensorsDType, numel, type SafetensorsDType, SAFETENSORS_DTYPES } from './dtypes.ts';

/** Where one tensor lives in its file. */
export interface TensorInfo {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** Size of the tensor's data in bytes. */
  readonly byteLength: number;
  /** Absolute position of the tensor's first byte in the file. */
  readonly byteOffset: number;
}

export interface ParsedHeader {
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
}

/** Same cap as the reference implementation: a larger header is taken as corruption. */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * Checks the 8-byte length prefix against the file size and returns the header's byte length.
 * `file` only names the file in errors.
 */
export function headerLength(file: string, prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8) throw new FormatError(file, `file is ${fileSize} bytes, too short for a safetensors header`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES))
    throw new FormatError(file, `header length ${n} exceeds ${MAX_HEADER_BYTES} bytes: not a safetensors file, or corrupt`);
  if (n > BigInt(fileSize - 8))
    throw new FormatError(file, `header length ${n} runs past the end of the ${fileSize}-byte file (truncated?)`);
  if (n < 2n) throw new FormatError(file, `header length ${n} is too small for a JSON object`);
  return Number(n);
}

/**
 * Parses and validates header bytes. `dataStart` is the file offset of the data section (8 + N),
 * `dataSize` how many bytes follow it. Every tensor's dtype, shape, byte count, bounds and
 * non-overlap are checked; gaps and trailing bytes are tolerated (the reference reader rejects them,
 * but they cannot cause a misread).
 */
export function parseHeader(file: string, bytes: Uint8Array, dataStart: number, dataSize: number): ParsedHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new FormatError(file, 'header is not valid UTF-8: not a safetensors file, or corrupt');
  }
  if (!text.startsWith('{')) throw new FormatError(file, 'header does not start with "{": not a safetensors file, or corrupt');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FormatError(file, `header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new FormatError(file, 'header is not a JSON object');

  let metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  const spans: { name: string; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(file, entry);
      continue;
    }
    const { info, begin, end } = parseEntry(file, name, entry, dataStart, dataSize);
    tensors.set(name, info);
    if (end > begin) spans.push({ name, begin, end });
  }
  spans.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1]!;
    const cur = spans[i]!;
    if (cur.begin < prev.end)
      throw new FormatError(
        file,
        `data_offsets [${cur.begin}, ${cur.end}] overlap those of '${prev.name}' [${prev.begin}, ${prev.end}]`,
        cur.name,
      );
  }
  return { metadata, tensors };
}

function parseMetadata(file: string, entry: unknown): Record<string, string> {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    throw new FormatError(file, 'must be an object of strings', '__metadata__');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new FormatError(file, `value of '${k}' must be a string, got ${JSON.stringify(v)}`, '__metadata__');
    out[k] = v;
  }
  return out;
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function parseEntry(file: string, name: string, entry: unknown, dataStart: number, dataSize: number) {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    throw new FormatError(file, 'entry must be an object with dtype, shape and data_offsets', name);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (!isSafetensorsDType(dtype)) {
    throw new FormatError(file, `unknown dtype ${JSON.stringify(dtype)} (known: ${SAFETENSORS_DTYPES.join(', ')})`, name);
  }
  if (!Array.isArray(shape) || !shape.every(isIndex))
    throw new FormatError(file, `shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`, name);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    throw new FormatError(file, `data_offsets must be [begin, end] of non-negative integers, got ${JSON.stringify(offsets)}`, name);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new FormatError(file, `data_offsets [${begin}, ${end}] end before they begin`, name);
  const need = numel(shape) * dtypeSize(dtype);
  if (!Number.isSafeInteger(need)) throw new FormatError(file, `shape [${shape.join(', ')}] is too large`, name);
  if (end - begin !== need) {
    throw new FormatError(
      file,
      `shape [${shape.join(', ')}] of ${dtype} needs ${need} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
      name,
    );
  }
  if (end > dataSize) {
    throw new FormatError(file, `data_offsets [${begin}, ${end}] run past the ${dataSize} bytes of data in the file (truncated?)`, name);
  }
  const info: TensorInfo = { dtype, shape: Object.freeze([...shape]), byteLength: need, byteOffset: dataStart + begin };
  return { info, begin, end };
}
