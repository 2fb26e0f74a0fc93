/** Data: datasets in their published formats, samplers, DataLoader, transforms, the data root. */
export { type Dataset, type IterableDataset, TensorDataset, Subset, ConcatDataset, MappedDataset, randomSplit } from './dataset.js';
export { type Sampler, SequentialSampler, RandomSampler, WeightedRandomSampler, batchIndices } from './sampler.js';
export { defaultCollate, type Batch } from './collate.js';
export { DataLoader, type DataLoaderOptions, type DatasetRecipe, type RecipeDataset } from './dataloader.js';
export { MNIST, FashionMNIST, CIFAR, ImageFolder, TextLines, ParallelText, type Example, type TransformRecipe } from './datasets.js';
export * as transforms from './transforms.js';
export { dataRoot, requireDataset, locateDataset, DATA_ENV } from './root.js';
export {
  downloadDataset,
  verifyDataset,
  consoleProgress,
  manualInstructions,
  DatasetDownloadError,
  type DownloadOptions,
  type DownloadProgress,
  type DatasetStatus,
  type FileStatus,
} from './download.js';
export { DATASETS, getDatasetSpec, type DatasetSpec, type DatasetFile } from './registry.js';
export { dataCommand, DATA_USAGE } from './data-command.js';
