// Row tiles: the layout resident quantised weights take. R rows (8 for 2-byte codes, 4 for 1-byte
// codes) form a tile; each row is cut into 16-byte chunks, stored chunk-major within the tile:
//   [row 0 chunk 0][row 1 chunk 0] … [row R−1 chunk 0][row 0 chunk 1] …
// so a mat-vec that works on R rows at once reads one sequential stream (the prefetcher's best
// case) instead of R streams a row apart. Rows past N and codes past K are zero.
import { W_BF16, W_F16 } from './layout';

/** Bytes per code. */
// @ts-ignore: decorator
@inline export function codeBytes(kind: i32): i32 {
  return kind == W_BF16 || kind == W_F16 ? 2 : 1;
}

/** Rows per tile. */
// @ts-ignore: decorator
@inline export function tileRows(kind: i32): i32 {
  return codeBytes(kind) == 2 ? 8 : 4;
}

/** Chunks (16 bytes) per row: ceil(K · bytes / 16). */
export function chunksPerRow(kind: i32, K: i32): i32 {
  return (K * codeBytes(kind) + 15) >> 4;
}

/** Codes per row once padded to whole chunks (also the row length of the permuted X). */
export function paddedK(kind: i32, K: i32): i32 {
  return (chunksPerRow(kind, K) << 4) / codeBytes(kind);
}

/** Bytes of the tiled form of an N×K weight. */
export function tiledBytes(kind: i32, N: i32, K: i32): usize {
  const R = tileRows(kind);
  return <usize>((N + R - 1) / R) * <usize>R * <usize>chunksPerRow(kind, K) * 16;
}

/** Address of chunk c of row n in a tiled weight with R rows per tile and C chunks per row. */
// @ts-ignore: decorator
@inline export function chunkAddr(base: usize, R: i32, C: i32, n: i32, c: i32): usize {
  return base + ((<usize>(n / R) * <usize>C + <usize>c) * <usize>R + <usize>(n % R)) * 16;
}

/** Tiles an N×K row-major weight `src` into `dst` (tiledBytes long). Runs once per weight. */
export function tileWeight(kind: i32, src: usize, N: i32, K: i32, dst: usize): void {
  const R = tileRows(kind), C = chunksPerRow(kind, K);
  const rowBytes = <usize>K * <usize>codeBytes(kind);
  memory.fill(dst, 0, tiledBytes(kind, N, K));
  for (let n = 0; n < N; n++) {
    const row = src + <usize>n * rowBytes;
    let c = 0;
    for (; <usize>(c + 1) * 16 <= rowBytes; c++) v128.store(chunkAddr(dst, R, C, n, c), v128.load(row + (<usize>c << 4)));
    if (c < C) memory.copy(chunkAddr(dst, R, C, n, c), row + (<usize>c << 4), rowBytes - (<usize>c << 4));
  }
}
