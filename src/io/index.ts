/**
 * The io namespace: file formats and crash-safe files. safetensors in and out, checkpoints,
 * atomic writes, IDX (MNIST) and tar archives.
 */
export {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  saveSafetensors,
  readSafetensorsHeader,
  parseSafetensorsHeader,
  readHeaderLength,
  SafetensorsError,
  SAFETENSORS_DTYPES,
  MAX_HEADER_BYTES,
  type SafetensorsDType,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type SafetensorsContents,
  type SafetensorsReadOptions,
} from './safetensors.js';
export { saveCheckpoint, loadCheckpoint, encodeCheckpoint, CheckpointError, type Checkpoint, type StateTree } from './checkpoint.js';
export { writeFileAtomic, removeStaleTemps, fsyncDirectory, fsyncFile, type AtomicWriteOptions, type AtomicStage } from './atomic.js';
export { readIdx, parseIdx, type IdxOptions } from './idx.js';
export { extractTar, type TarEntry } from './tar.js';
export { encodePng, decodePng, readPngChunks, crc32, type PngImage, type PngChunk } from './png.js';
export { encodeGif, lzwEncode, type GifOptions } from './gif.js';
export { makeGrid, saveImage, type GridOptions } from './image-grid.js';
