/**
 * The slice of the WebAssembly JS API the runtime uses, typed here because the project's `lib`
 * (ES2023, no DOM) does not declare the WebAssembly global.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
export interface WasmGlobal {
  value: unknown;
}
export type WasmModule = object;
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  Memory: new (desc: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}

export const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
