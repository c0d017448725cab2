/** Safetensors I/O: lazy reading of files and (sharded) checkpoints, canonical atomic writing. */
export {
  SAFETENSORS_DTYPES,
  dtypeSize,
  isSafetensorsDType,
  numel,
  type SafetensorsArray,
  type SafetensorsArrayOf,
  type SafetensorsDType,
  type StoredTensor,
} from './dtypes.ts';
export type { TensorInfo } from './header.ts';
export type { TensorSource } from './source.ts';
export { openSafetensors, type SafetensorsFile } from './file.ts';
export { openCheckpoint, INDEX_FILE, SINGLE_FILE, type Checkpoint } from './checkpoint.ts';
export { writeSafetensors, byteLengthOf, type TensorMap, type DeferredTensor, type WritableTensor } from './writer.ts';
export { writeCheckpoint, type ShardOptions } from './sharded-writer.ts';
