/**
 * Datasets in their published formats, read from the data root: MNIST and Fashion-MNIST (IDX),
 * CIFAR-10 and CIFAR-100 (binary version), an ImageFolder of PNG/JPEG files, and text files.
 * Items are [image, label] with the image as torchvision gives it before transforms: MNIST
 * [1, 28, 28] and CIFAR [3, 32, 32] float32 in [0, 1]; ImageFolder [3, H, W] float32 in [0, 1].
 *
 * Each dataset has a recipe() so DataLoader worker threads can rebuild it; a dataset with a
 * transform needs one defined in a module (see `datasetFromRecipe`).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Generator, Tensor, cat } from '../tensor/index.js';
import { readCifarBinary } from '../io/cifar.js';
import { readIdx } from '../io/idx.js';
import { readImage } from '../io/image.js';
import type { DatasetRecipe, RecipeDataset } from './dataloader.js';
import type { Dataset } from './dataset.js';
import { requireDataset } from './root.js';
import type { Transform } from './transforms.js';

export type Example = [Tensor, number];

/** Where a transform comes from when the dataset must be rebuilt in a worker: module + export. */
export interface TransformRecipe {
  module: string;
  /** An exported function returning the Transform. */
  factory: string;
  args?: unknown[];
}

interface CommonOptions {
  /** The data root (a --data-dir flag); defaults as dataRoot() says. */
  root?: string;
  train?: boolean;
  transform?: Transform;
  /** How a worker rebuilds `transform`; needed with numWorkers > 0 when a transform is given. */
  transformRecipe?: TransformRecipe;
}

/** Images [N, ...] and labels [N] held in memory, with an optional transform per example. */
abstract class InMemoryImages implements RecipeDataset<Example> {
  abstract readonly length: number;
  protected abstract images: Tensor;
  protected abstract labels: number[];
  constructor(protected readonly options: CommonOptions) {}
  get(index: number, rng?: Generator): Example {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`${this.constructor.name}: index ${index} is out of range (length ${this.length})`);
    }
    const img = this.images.select(0, index).float().div(255);
    return [this.options.transform ? this.options.transform(img, rng) : img, this.labels[index]!];
  }
  protected abstract kind(): string;
  recipe(): DatasetRecipe {
    if (this.options.transform && !this.options.transformRecipe) {
      throw new Error(`${this.constructor.name}: give transformRecipe so worker threads can rebuild the transform`);
    }
    const { transform: _t, ...plain } = this.options;
    return { module: import.meta.url, factory: 'datasetFromRecipe', args: [this.kind(), plain] };
  }
}

const MNIST_FILES = {
  train: ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'],
  test: ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'],
};

/** MNIST (LeCun et al. 1998) or Fashion-MNIST (Xiao et al. 2017) from `<root>/<folder>/*-ubyte.gz`. */
export class MNIST extends InMemoryImages {
  readonly length: number;
  protected images: Tensor;
  protected labels: number[];
  constructor(
    options: CommonOptions = {},
    private readonly folder: 'mnist' | 'fashion-mnist' = 'mnist',
  ) {
    super(options);
    const [imgPath, lblPath] = requireDataset(folder, MNIST_FILES[options.train === false ? 'test' : 'train'], options.root);
    this.images = readIdx(imgPath!).unsqueeze(1); // [N, 1, 28, 28]
    this.labels = readIdx(lblPath!).toArray() as number[];
    if (this.images.shape[0] !== this.labels.length) {
      throw new Error(`${folder}: ${this.images.shape[0]} images but ${this.labels.length} labels`);
    }
    this.length = this.labels.length;
  }
  protected kind(): string {
    return this.folder;
  }
}

export class FashionMNIST extends MNIST {
  constructor(options: CommonOptions = {}) {
    super(options, 'fashion-mnist');
  }
}

/** CIFAR-10 / CIFAR-100, binary version, from `<root>/cifar-10-batches-bin/` or `<root>/cifar-100-binary/`. */
export class CIFAR extends InMemoryImages {
  readonly length: number;
  protected images: Tensor;
  protected labels: number[];
  constructor(
    options: CommonOptions = {},
    private readonly variant: 'cifar10' | 'cifar100' = 'cifar10',
  ) {
    super(options);
    const train = options.train !== false;
    const [folder, files] =
      variant === 'cifar10'
        ? ['cifar-10-batches-bin', train ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['test_batch.bin']]
        : ['cifar-100-binary', [train ? 'train.bin' : 'test.bin']];
    const paths = requireDataset(folder, files, options.root);
    const parts = paths.map((p) => readCifarBinary(p, variant));
    this.images = cat(parts.map((p) => p.images), 0);
    this.labels = parts.flatMap((p) => p.labels.toArray() as number[]);
    this.length = this.labels.length;
  }
  protected kind(): string {
    return this.variant;
  }
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/**
 * A folder with one sub-folder per class of PNG/JPEG images (torchvision's ImageFolder): classes
 * are the sub-folder names in sorted order, labels their indices. Images are decoded on access.
 */
export class ImageFolder implements RecipeDataset<Example> {
  readonly classes: string[];
  readonly samples: [string, number][];
  readonly length: number;
  constructor(
    readonly dir: string,
    private readonly options: Omit<CommonOptions, 'root' | 'train'> = {},
  ) {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch (e) {
      throw new Error(`ImageFolder: cannot read ${dir}: ${(e as Error).message}`);
    }
    this.classes = entries.filter((e) => statSync(join(dir, e)).isDirectory());
    this.samples = [];
    this.classes.forEach((c, label) => {
      for (const f of readdirSync(join(dir, c)).sort()) {
        if (IMAGE_EXTENSIONS.has(extname(f).toLowerCase())) this.samples.push([join(dir, c, f), label]);
      }
    });
    if (this.samples.length === 0) {
      throw new Error(`ImageFolder: no .png/.jpg/.jpeg images found in class folders under ${dir}`);
    }
    this.length = this.samples.length;
  }
  get(index: number, rng?: Generator): Example {
    const [path, label] = this.samples[index] ?? [];
    if (path === undefined) throw new RangeError(`ImageFolder: index ${index} is out of range (length ${this.length})`);
    const hwc = readImage(path);
    let img = hwc.permute([2, 0, 1]).float().div(255); // [C, H, W]
    if (img.shape[0] === 1) img = img.expand([3, img.shape[1]!, img.shape[2]!]);
    return [this.options.transform ? this.options.transform(img, rng) : img, label!];
  }
  recipe(): DatasetRecipe {
    if (this.options.transform && !this.options.transformRecipe) {
      throw new Error('ImageFolder: give transformRecipe so worker threads can rebuild the transform');
    }
    const { transform: _t, ...plain } = this.options;
    return { module: import.meta.url, factory: 'datasetFromRecipe', args: ['imagefolder', { ...plain, dir: this.dir }] };
  }
}

/** Lines of a UTF-8 text file (a text-line dataset), optionally skipping empty ones. */
export class TextLines implements Dataset<string> {
  readonly lines: string[];
  readonly length: number;
  constructor(path: string, options: { skipEmpty?: boolean } = {}) {
    const text = readFileSync(path, 'utf8');
    this.lines = text.split(/\r?\n/);
    if (this.lines.at(-1) === '') this.lines.pop();
    if (options.skipEmpty) this.lines = this.lines.filter((l) => l.trim() !== '');
    this.length = this.lines.length;
  }
  get(index: number): string {
    const line = this.lines[index];
    if (line === undefined) throw new RangeError(`TextLines: index ${index} is out of range (length ${this.length})`);
    return line;
  }
}

/** Aligned source/target sentence pairs from two line files (Multi30k's train.de / train.en). */
export class ParallelText implements Dataset<[string, string]> {
  readonly length: number;
  private readonly src: TextLines;
  private readonly tgt: TextLines;
  constructor(srcPath: string, tgtPath: string) {
    this.src = new TextLines(srcPath);
    this.tgt = new TextLines(tgtPath);
    if (this.src.length !== this.tgt.length) {
      throw new Error(`ParallelText: ${srcPath} has ${this.src.length} lines but ${tgtPath} has ${this.tgt.length}`);
    }
    this.length = this.src.length;
  }
  get(index: number): [string, string] {
    return [this.src.get(index), this.tgt.get(index)];
  }
}

/** Rebuilds a built-in dataset in a worker thread (the factory every recipe above names). */
export async function datasetFromRecipe(
  kind: string,
  options: Omit<CommonOptions, 'transform'> & { dir?: string },
): Promise<Dataset<Example>> {
  let transform: Transform | undefined;
  if (options.transformRecipe) {
    const mod = (await import(options.transformRecipe.module)) as Record<string, (...a: unknown[]) => Transform>;
    const make = mod[options.transformRecipe.factory];
    if (typeof make !== 'function') {
      throw new Error(`datasetFromRecipe: ${options.transformRecipe.module} exports no function '${options.transformRecipe.factory}'`);
    }
    transform = make(...(options.transformRecipe.args ?? []));
  }
  const full = { ...options, transform };
  switch (kind) {
    case 'mnist':
      return new MNIST(full, 'mnist');
    case 'fashion-mnist':
      return new MNIST(full, 'fashion-mnist');
    case 'cifar10':
    case 'cifar100':
      return new CIFAR(full, kind);
    case 'imagefolder':
      return new ImageFolder(options.dir!, full);
    default:
      throw new Error(`datasetFromRecipe: unknown dataset kind '${kind}'`);
  }
}
