/**
 * The datasets `milestones data download` knows: where each file is published, its size and its
 * published checksum, and where it goes under the data root. Paths are relative to the data root
 * and match what the dataset classes read (`<root>/mnist/...`, `<root>/cifar-10-batches-bin/...`).
 *
 * Checksums: the MD5s are the ones the publishers (or torchvision, for MNIST) list; the SHA-256s
 * were computed from copies whose MD5 matched (see shared/data/MANIFEST.md in the workspace).
 */

/** A file a dataset is made of, as published. */
export interface DatasetFile {
  /** Where it goes, relative to the data root ('/'-separated). */
  path: string;
  /** Addresses to try in order; the first that delivers the right bytes wins. */
  urls: string[];
  /** Size in bytes, when known. */
  size?: number;
  md5?: string;
  sha256?: string;
  /**
   * For an archive: it is unpacked into the data root, and these are the files it yields (paths
   * relative to the data root, with sizes when known). Once they are there the archive itself is
   * no longer needed.
   */
  unpacks?: { path: string; size?: number }[];
}

/** A dataset: its files and what a person should know about it. */
export interface DatasetSpec {
  name: string;
  description: string;
  /** The page the data is published on. */
  homepage: string;
  /** Terms of use, in a line. */
  license: string;
  files: DatasetFile[];
}

const TORCHVISION_MNIST_MIRRORS = ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/'];

function mnistFiles(folder: string, mirrors: string[], files: [string, number, string, string?][]): DatasetFile[] {
  return files.map(([name, size, md5, sha256]) => ({
    path: `${folder}/${name}`,
    urls: mirrors.map((m) => m + name),
    size,
    md5,
    ...(sha256 ? { sha256 } : {}),
  }));
}

/** CIFAR binary batches are records of label byte(s) + 3072 pixels, 10,000 per file. */
const cifar10Batch = (name: string) => ({ path: `cifar-10-batches-bin/${name}`, size: 10_000 * 3073 });

export const DATASETS: Readonly<Record<string, DatasetSpec>> = {
  mnist: {
    name: 'mnist',
    description: 'MNIST handwritten digits (LeCun et al. 1998): 60,000 + 10,000 grayscale 28x28 images, IDX format',
    homepage: 'http://yann.lecun.com/exdb/mnist/',
    license: 'CC BY-SA 3.0 (per Keras); cite LeCun et al. 1998',
    files: mnistFiles('mnist', TORCHVISION_MNIST_MIRRORS, [
      ['train-images-idx3-ubyte.gz', 9_912_422, 'f68b3c2dcbeaaa9fbdd348bbdeb94873', '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609'],
      ['train-labels-idx1-ubyte.gz', 28_881, 'd53e105ee54ea40749a09fcbcd1e9432', '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c'],
      ['t10k-images-idx3-ubyte.gz', 1_648_877, '9fb629c4189551a2d022fa330f9573f3', '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6'],
      ['t10k-labels-idx1-ubyte.gz', 4_542, 'ec29112dd5afa0611ce80d1b7f02629c', 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6'],
    ]),
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    description: 'Fashion-MNIST (Xiao et al. 2017): 60,000 + 10,000 grayscale 28x28 clothing images, IDX format',
    homepage: 'https://github.com/zalandoresearch/fashion-mnist',
    license: 'MIT, Copyright (c) 2017 Zalando SE',
    files: mnistFiles('fashion-mnist', ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'], [
      ['train-images-idx3-ubyte.gz', 26_421_880, '8d4fb7e6c68d591d4c3dfef9ec88bf0d'],
      ['train-labels-idx1-ubyte.gz', 29_515, '25c81989df183df01b3e8a0aad5dffbe', 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845'],
      ['t10k-images-idx3-ubyte.gz', 4_422_102, 'bef4ecab320f06d8554ea6380940ec79'],
      ['t10k-labels-idx1-ubyte.gz', 5_148, 'bb300cfdad3c16e7a12a480ee83cd310', '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5'],
    ]),
  },
  cifar10: {
    name: 'cifar10',
    description: 'CIFAR-10 (Krizhevsky 2009), binary version: 50,000 + 10,000 colour 32x32 images in 10 classes',
    homepage: 'https://www.cs.toronto.edu/~kriz/cifar.html',
    license: 'no explicit license; cite Krizhevsky 2009, "Learning Multiple Layers of Features from Tiny Images"',
    files: [
      {
        path: 'cifar-10-binary.tar.gz',
        urls: ['https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'],
        size: 170_052_171,
        md5: 'c32a1d4ab5d03f1284b67883e8d87530',
        unpacks: [
          ...[1, 2, 3, 4, 5].map((i) => cifar10Batch(`data_batch_${i}.bin`)),
          cifar10Batch('test_batch.bin'),
          { path: 'cifar-10-batches-bin/batches.meta.txt' },
        ],
      },
    ],
  },
  cifar100: {
    name: 'cifar100',
    description: 'CIFAR-100 (Krizhevsky 2009), binary version: 50,000 + 10,000 colour 32x32 images in 100 classes',
    homepage: 'https://www.cs.toronto.edu/~kriz/cifar.html',
    license: 'no explicit license; cite Krizhevsky 2009, "Learning Multiple Layers of Features from Tiny Images"',
    files: [
      {
        path: 'cifar-100-binary.tar.gz',
        urls: ['https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz'],
        size: 168_513_733,
        md5: '03b5dce01913d631647c71ecec9e9cb8',
        unpacks: [
          { path: 'cifar-100-binary/train.bin', size: 50_000 * 3074 },
          { path: 'cifar-100-binary/test.bin', size: 10_000 * 3074 },
          { path: 'cifar-100-binary/fine_label_names.txt' },
          { path: 'cifar-100-binary/coarse_label_names.txt' },
        ],
      },
    ],
  },
  tinyshakespeare: {
    name: 'tinyshakespeare',
    description: "Tiny Shakespeare (Karpathy's char-rnn): 1.1 MB of Shakespeare's plays as one text file",
    homepage: 'https://github.com/karpathy/char-rnn',
    license: 'public-domain text; char-rnn is MIT-licensed',
    files: [
      {
        path: 'tinyshakespeare/input.txt',
        urls: ['https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt'],
        size: 1_115_394,
        sha256: '86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed',
      },
    ],
  },
};

/** The spec of a known dataset, or an error listing the known names. */
export function getDatasetSpec(name: string): DatasetSpec {
  const spec = Object.prototype.hasOwnProperty.call(DATASETS, name) ? DATASETS[name] : undefined;
  if (!spec) throw new Error(`unknown dataset '${name}' (known: ${Object.keys(DATASETS).join(', ')})`);
  return spec;
}
