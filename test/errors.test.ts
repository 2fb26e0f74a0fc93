/**
 * Bad input gets a clear error (DESIGN.md, invariant 7): every op checks shapes, axes, dtypes and
 * indices, and its message names the op and the shapes involved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, zeros, ones, randn, cat, stack, matmul, nn, randint, multinomial, pad } from '../src/index.js';

const F = nn.functional;
const idx = (v: number[], shape = [v.length]) => tensor(v, { dtype: 'int32', shape });

test('matmul names both shapes and the mismatched inner sizes', () => {
  assert.throws(() => zeros([2, 3]).matmul(zeros([4, 5])), /^Error: matmul: shapes \[2, 3\] and \[4, 5\] cannot be multiplied \(3 != 4\)$/);
  assert.throws(() => matmul(zeros([3]), zeros([4])), /matmul: shapes \[3\] and \[4\] cannot be multiplied \(3 != 4\)/);
  assert.throws(() => zeros([2, 3, 4]).matmul(zeros([3, 4, 5])), /matmul: shapes \[2, 3, 4\] and \[3, 4, 5\] cannot be broadcast in their batch dimensions/);
  assert.throws(() => zeros([]).matmul(zeros([2])), /matmul: both arguments need at least 1 dimension, got \[\] and \[2\]/);
  assert.throws(() => F.linear(zeros([2, 3]), zeros([4, 5])), /linear: input \[2, 3\] does not end in inFeatures = 5 \(weight \[4, 5\]\)/);
});

test('broadcasting mismatches name the op, both shapes and the dimension', () => {
  assert.throws(() => zeros([2, 3]).add(zeros([4])), /add: shapes \[2, 3\] and \[4\] cannot be broadcast together \(dimension -1: 3 vs 4\)/);
  assert.throws(() => zeros([2, 3]).mul(zeros([2, 1, 2])), /mul: shapes \[2, 3\] and \[2, 1, 2\] cannot be broadcast together/);
  assert.throws(() => zeros([3]).lt(zeros([2])), /lt: shapes \[3\] and \[2\] cannot be broadcast together/);
  assert.throws(() => zeros([3]).where(tensor([true, false]), 0), /where: shapes \[2\] and \[3\] and \[\] cannot be broadcast together/);
  assert.throws(() => zeros([2, 3]).maskedFill(tensor([true, false, true, false]), 1), /maskedFill: mask \[4\] does not broadcast to the input \[2, 3\]/);
  assert.throws(() => zeros([1, 3]).maskedFill(zeros([2, 3]).eq(0), 1), /maskedFill: mask \[2, 3\] does not broadcast to the input \[1, 3\]/);
  assert.throws(() => zeros([3, 1]).expand([2, 4]), /expand: cannot expand \[3, 1\] to \[2, 4\] \(dimension 0: 3 vs 2\)/);
  assert.throws(() => F.mseLoss(zeros([2, 3]), zeros([3, 2])), /mseLoss: input \[2, 3\] and target \[3, 2\] must have the same shape/);
  assert.throws(() => F.cosineSimilarity(zeros([2, 3]), zeros([4, 3])), /cosineSimilarity: shapes \[2, 3\] and \[4, 3\] cannot be broadcast together/);
});

test('a bad axis names the op, the axis and the rank', () => {
  const x = zeros([2, 3]);
  const rank2 = (op: string, d: number) => new RegExp(`${op}: dimension ${d} is out of range for a tensor of rank 2 \\(expected -2 to 1\\)`);
  assert.throws(() => x.sum(2), rank2('sum', 2));
  assert.throws(() => x.mean(-3), rank2('mean', -3));
  assert.throws(() => x.var(5), rank2('var', 5));
  assert.throws(() => x.max(2), rank2('max', 2));
  assert.throws(() => x.argmax(-3), rank2('argmax', -3));
  assert.throws(() => x.logsumexp(2), rank2('logsumexp', 2));
  assert.throws(() => x.cumsum(2), rank2('cumsum', 2));
  assert.throws(() => x.softmax(2), rank2('softmax', 2));
  assert.throws(() => F.softmax(x, 2), rank2('softmax', 2));
  assert.throws(() => F.logSoftmax(x, -3), rank2('logSoftmax', -3));
  assert.throws(() => x.transpose(0, 2), rank2('transpose', 2));
  assert.throws(() => x.flip(3), rank2('flip', 3));
  assert.throws(() => x.squeeze(2), rank2('squeeze', 2));
  assert.throws(() => x.unsqueeze(4), /unsqueeze: dimension 4 is out of range for a tensor of rank 3/);
  assert.throws(() => cat([x, x], 2), rank2('cat', 2));
  assert.throws(() => x.split(1, 2), rank2('split', 2));
  assert.throws(() => x.topk(1, 2), rank2('topk', 2));
  assert.throws(() => x.sort(2), rank2('argsort', 2));
  assert.throws(() => x.norm(2, 2), rank2('norm', 2));
  assert.throws(() => x.gather(2, idx([0, 0], [1, 2])), rank2('gather', 2));
  assert.throws(() => x.indexSelect(2, idx([0])), rank2('indexSelect', 2));
  assert.throws(() => x.sum([0, 0]), /sum: dimension repeated in \[0, 0\]/);
  assert.throws(() => x.permute(0, 0), /permute: repeated dimension in \[0, 0\]/);
  assert.throws(() => x.permute(0), /permute: expected 2 dimensions for a tensor of shape \[2, 3\], got \[0\]/);
});

test('index tensors must be int32', () => {
  const x = zeros([3, 4]);
  const f = tensor([0, 1]);
  assert.throws(() => x.gather(1, f.reshape([1, 2])), /gather: index must be an int32 tensor, got float32/);
  assert.throws(() => x.indexSelect(0, f), /indexSelect: index must be an int32 tensor, got float32/);
  assert.throws(() => x.scatter(1, f.reshape([1, 2]), 1), /scatter: index must be an int32 tensor, got float32/);
  assert.throws(() => x.scatterAdd(1, f.reshape([1, 2]), zeros([1, 2])), /scatterAdd: index must be an int32 tensor, got float32/);
  assert.throws(() => F.embedding(f, zeros([5, 2])), /embedding: index must be an int32 tensor, got float32/);
  assert.throws(() => F.oneHot(f, 3), /oneHot: index must be an int32 tensor, got float32/);
  assert.throws(() => F.nllLoss(zeros([2, 3]), f), /nllLoss: target must hold int32 class indices, got float32/);
  assert.throws(() => zeros([2, 3]).where(zeros([2, 3]), 1), /where: condition must be a bool tensor, got float32/);
  assert.throws(() => x.maskedFill(zeros([3, 4]), 1), /maskedFill: mask must be a bool tensor, got float32/);
});

test('out-of-range indices are errors, never silent reads', () => {
  const x = zeros([3, 4]);
  assert.throws(() => x.gather(1, idx([0, 4], [1, 2])), /gather: index 4 is out of bounds for dimension 1 with size 4/);
  assert.throws(() => x.gather(1, idx([0, -1], [1, 2])), /gather: index -1 is out of bounds for dimension 1 with size 4/);
  assert.throws(() => x.indexSelect(0, idx([0, 3])), /indexSelect: index 3 is out of bounds for dimension 0 with size 3/);
  assert.throws(() => x.indexSelect(0, idx([-1])), /indexSelect: index -1 is out of bounds for dimension 0 with size 3/);
  assert.throws(() => x.scatter(0, idx([3], [1, 1]), 1), /scatter: index 3 is out of bounds for dimension 0 with size 3/);
  assert.throws(() => x.scatterAdd(1, idx([9], [1, 1]), ones([1, 1])), /scatterAdd: index 9 is out of bounds for dimension 1 with size 4/);
  assert.throws(() => F.embedding(idx([1, 6]), zeros([6, 2])), /embedding: index 6 is out of range for a table of 6 rows \(weight \[6, 2\]\)/);
  assert.throws(() => F.embedding(idx([-1]), zeros([6, 2])), /embedding: index -1 is out of range for a table of 6 rows/);
  assert.throws(() => F.oneHot(idx([0, 3]), 3), /oneHot: class 3 is out of range for numClasses = 3/);
  assert.throws(() => F.oneHot(idx([-2]), 3), /oneHot: class -2 is out of range for numClasses = 3/);
  assert.throws(() => F.crossEntropy(zeros([2, 3]), idx([0, 3])), /crossEntropy: target class 3 is out of range for 3 classes/);
  assert.throws(() => F.nllLoss(zeros([2, 3]), idx([-1, 0])), /nllLoss: target class -1 is out of range for 3 classes/);
  assert.throws(() => x.slice(3), /slice: index 3 is out of bounds for dimension 0 with size 3/);
  assert.throws(() => x.narrow(1, 2, 3), /narrow: start 2 and length 3 exceed dimension 1 of size 4/);
  assert.throws(() => x.topk(5, 1), /topk: k = 5 is out of range for dimension 1 of size 4/);
});

test('index shapes are checked against the input', () => {
  const x = zeros([3, 4]);
  assert.throws(() => x.gather(1, idx([0, 1])), /gather: index \[2\] and input \[3, 4\] must have the same rank/);
  assert.throws(() => x.gather(1, idx([0, 0, 0, 0, 0, 0, 0, 0], [4, 2])), /gather: index \[4, 2\] is larger than input \[3, 4\] in dimension 0/);
  assert.throws(() => x.indexSelect(0, idx([0, 1], [1, 2])), /indexSelect: index must be 1-D, got shape \[1, 2\]/);
  assert.throws(() => x.scatter(1, idx([0, 1], [1, 2]), zeros([1, 1])), /scatter: index \[1, 2\] is larger than src \[1, 1\] in dimension 1/);
  assert.throws(() => F.embedding(idx([0]), zeros([6])), /embedding: weight must be 2-D \[numEmbeddings, dim\], got \[6\]/);
});

test('convolutions check channels, ranks and sizes', () => {
  assert.throws(
    () => F.conv2d(zeros([1, 3, 5, 5]), zeros([4, 2, 3, 3])),
    /conv2d: input \[1, 3, 5, 5\] has 3 channels but weight \[4, 2, 3, 3\] expects 2 \(groups = 1\)/,
  );
  assert.throws(() => F.conv2d(zeros([1, 4, 5, 5]), zeros([3, 2, 3, 3]), null, { groups: 2 }), /conv2d: groups = 2 must divide both in channels \(4\) and out channels \(3\)/);
  assert.throws(() => F.conv2d(zeros([5, 5]), zeros([1, 1, 3, 3])), /conv2d: expected a 3-D \[C, H, W\] or 4-D \[N, C, H, W\] input, got \[5, 5\]/);
  assert.throws(() => F.conv2d(zeros([1, 1, 5, 5]), zeros([1, 3, 3])), /conv2d: weight must be 4-D \[out, in\/groups, kH, kW\], got \[1, 3, 3\]/);
  assert.throws(() => F.conv2d(zeros([1, 1, 2, 2]), zeros([1, 1, 3, 3])), /conv2d: input \[1, 1, 2, 2\] is too small for kernel 3x3/);
  assert.throws(() => F.conv2d(zeros([1, 2, 4, 4]), zeros([3, 2, 3, 3]), zeros([2])), /conv2d: bias must be \[3\], got \[2\]/);
  assert.throws(
    () => F.conv1d(zeros([2, 3, 8]), zeros([4, 2, 3])),
    /conv1d: input \[2, 3, 8\] has 3 channels but weight \[4, 2, 3\] expects 2 \(groups = 1\)/,
  );
  assert.throws(() => F.conv1d(zeros([2, 2, 2]), zeros([4, 2, 3])), /conv1d: input \[2, 2, 2\] is too small for kernel 3/);
  assert.throws(
    () => F.convTranspose2d(zeros([1, 3, 4, 4]), zeros([2, 2, 3, 3])),
    /convTranspose2d: input \[1, 3, 4, 4\] has 3 channels but weight \[2, 2, 3, 3\] expects 2/,
  );
  assert.throws(() => F.convTranspose2d(zeros([1, 2, 4, 4]), zeros([2, 2, 3, 3]), null, { stride: 2, outputPadding: 2 }), /convTranspose2d: outputPadding 2,2 must be smaller than stride or dilation/);
  assert.throws(() => F.maxPool2d(zeros([1, 1, 2, 2]), 3), /maxPool2d: input \[1, 1, 2, 2\] is too small for kernel 3,3/);
  assert.throws(
    () => F.maxPool2d(zeros([1, 1, 1, 7]), [2, 3], { stride: 1, padding: [1, 0], dilation: [2, 1] }),
    /maxPool2d: with input \[1, 1, 1, 7\], kernel 2,3, padding 1,0 and dilation 2,1 some pooling window covers only padding/,
  );
  assert.throws(() => F.avgPool2d(zeros([1, 1, 4, 4]), 2, { padding: 2 }), /avgPool2d: padding 2,2 should be at most half the kernel size 2,2/);
  assert.throws(() => F.adaptiveAvgPool2d(zeros([1, 4, 4]).reshape([4, 4]), 2), /adaptiveAvgPool2d: expected a 3-D \[C, H, W\] or 4-D \[N, C, H, W\] input, got \[4, 4\]/);
});

test('losses check their targets', () => {
  assert.throws(() => F.crossEntropy(zeros([4, 3]), idx([0, 1, 2, 0, 1])), /crossEntropy: input \[4, 3\] expects target \[4\], got \[5\]/);
  assert.throws(() => F.crossEntropy(zeros([2, 3, 5]), idx([0, 1], [2])), /crossEntropy: input \[2, 3, 5\] expects target \[2, 5\], got \[2\]/);
  assert.throws(() => F.crossEntropy(zeros([4, 3]), zeros([4, 2])), /crossEntropy: input \[4, 3\] and target \[4, 2\] must have the same shape/);
  assert.throws(() => F.crossEntropy(zeros([4, 3]), idx([0, 1, 2, 0]), { weight: ones([4]) }), /crossEntropy: weight must be \[3\], got \[4\]/);
  assert.throws(() => F.crossEntropy(zeros([4, 3]), idx([0, 1, 2, 0]), { labelSmoothing: 1.5 }), /crossEntropy: labelSmoothing must be in \[0, 1\], got 1.5/);
  assert.throws(() => F.nllLoss(zeros([4, 3]), idx([0, 1])), /nllLoss: input \[4, 3\] expects target \[4\], got \[2\]/);
  assert.throws(() => F.binaryCrossEntropyWithLogits(zeros([2]), zeros([3])), /binaryCrossEntropyWithLogits: input \[2\] and target \[3\] must have the same shape/);
  assert.throws(() => F.klDiv(zeros([2]), zeros([2, 1])), /klDiv: input \[2\] and target \[2, 1\] must have the same shape/);
  assert.throws(() => F.mseLoss(zeros([2]), zeros([2]), 'avg' as never), /mseLoss: reduction must be 'mean', 'sum' or 'none', got 'avg'/);
});

test('reshape, cat, stack and split check sizes', () => {
  const x = zeros([2, 3]);
  assert.throws(() => x.reshape([4, 2]), /reshape: shape \[4, 2\] is invalid for input of size 6 \(shape \[2, 3\]\)/);
  assert.throws(() => x.reshape([-1, 4]), /reshape: shape \[-1, 4\] is invalid for input of size 6/);
  assert.throws(() => x.view(-1, -1), /view: only one dimension can be inferred, got \[-1, -1\]/);
  assert.throws(() => x.flatten(1, 0), /flatten: startDim 1 comes after endDim 0/);
  assert.throws(() => cat([x, zeros([2, 4])], 0), /cat: sizes must match except in dimension 0, got \[2, 3\], \[2, 4\]/);
  assert.throws(() => cat([x, zeros([6])]), /cat: sizes must match except in dimension 0, got \[2, 3\], \[6\]/);
  assert.throws(() => cat([]), /cat: expected a non-empty list of tensors/);
  assert.throws(() => stack([x, zeros([3, 2])]), /stack: expects each tensor to be equal size, got \[2, 3\], \[3, 2\]/);
  assert.throws(() => x.split([1, 1], 1), /split: sizes \[1, 1\] add up to 2, not 3 \(dimension 1\)/);
  assert.throws(() => x.chunk(0), /chunk: number of chunks must be positive, got 0/);
  assert.throws(() => x.repeat(2), /repeat: needs at least 2 repeat counts for shape \[2, 3\], got 1/);
  assert.throws(() => zeros([3]).tril(), /tril: expects a tensor with at least 2 dimensions, got \[3\]/);
  assert.throws(() => pad(zeros([2, 3]), [3, 0], 'reflect'), /pad: reflect padding \(3, 0\) must be smaller than dimension 1 of size 3/);
  assert.throws(() => pad(zeros([2, 3]), [1]), /pad: padding length 1 must be even and at most twice the rank of \[2, 3\]/);
  assert.throws(() => x.slice(null, [0, 3, 0]), /slice: slice step must be a positive integer, got 0/);
});

test('normalisation, resampling and dropout check their arguments', () => {
  assert.throws(() => F.layerNorm(zeros([2, 3]), [4]), /layerNorm: input \[2, 3\] does not end in normalizedShape \[4\]/);
  assert.throws(() => F.layerNorm(zeros([2, 3]), [3], ones([4])), /layerNorm: weight must have the normalized shape \[3\], got \[4\]/);
  assert.throws(() => F.localResponseNorm(zeros([1, 2, 3]), 0), /localResponseNorm: size must be a positive integer, got 0/);
  assert.throws(
    () => F.binaryCrossEntropyWithLogits(zeros([2, 3]), zeros([2, 3]), { posWeight: ones([2]) }),
    /binaryCrossEntropyWithLogits: posWeight \[2\] does not broadcast to the input \[2, 3\]/,
  );
  assert.throws(() => F.batchNorm(zeros([2, 3]), zeros([4]), ones([4])), /batchNorm: runningMean must be \[3\], got \[4\]/);
  assert.throws(() => F.batchNorm(zeros([1, 3]), null, null, { training: true }), /batchNorm: expected more than 1 value per channel when training, got input \[1, 3\]/);
  assert.throws(() => F.interpolate(zeros([2, 3]), { size: 4 }), /interpolate: expected a 4-D \[N, C, H, W\] input, got \[2, 3\]/);
  assert.throws(() => F.interpolate(zeros([1, 1, 2, 2]), { size: 4, scaleFactor: 2 }), /interpolate: give exactly one of size and scaleFactor/);
  assert.throws(() => F.dropout(zeros([2]), 1.5), /dropout: probability must be between 0 and 1, got 1.5/);
  assert.throws(() => F.localResponseNorm(zeros([2, 3]), 2), /localResponseNorm: expected \[N, C, \.\.\.\] with at least 3 dimensions, got \[2, 3\]/);
});

test('creation and reading check their arguments', () => {
  assert.throws(() => tensor([[1, 2], [3]]), /tensor: ragged nested array at data\[1\] \(expected length 2, got 1\)/);
  assert.throws(() => tensor([1, 2, 3], { shape: [2, 2] }), /tensor: shape \[2, 2\] does not hold 3 values/);
  assert.throws(() => zeros([2, -1]), /full: invalid shape \[2, -1\]/);
  assert.throws(() => zeros([2]).item(), /item: only a one-element tensor can be converted to a number, got shape \[2\]/);
  assert.throws(() => randint(3, 3, [2]), /randint: expected integers low < high, got 3 and 3/);
  assert.throws(() => multinomial(tensor([0.5, 0.5]), 3), /multinomial: cannot draw 3 samples without replacement from 2 categories/);
  assert.throws(() => multinomial(tensor([-1, 2]), 1), /multinomial: weights must be non-negative with a positive sum in every row/);
  assert.throws(() => randn([2]).relu().bool().relu(), /relu: not defined for bool tensors/);
  assert.throws(() => tensor([2, 3], { dtype: 'int32' }).pow(-1), /pow: integers to negative integer powers are not allowed \(exponent -1\)/);
  // Integer modulo by zero is refused (PyTorch: ZeroDivisionError); a float one is NaN.
  assert.throws(() => tensor([5, 6], { dtype: 'int32' }).remainder(tensor([2, 0], { dtype: 'int32' })), /remainder: integer division by zero/);
  assert.throws(() => tensor([5, 6], { dtype: 'int32' }).fmod(0), /fmod: integer division by zero/);
  assert.deepEqual(tensor([5, -6]).remainder(0).toArray(), [NaN, NaN]);
  assert.deepEqual(tensor([5, -6], { dtype: 'int32' }).remainder(4).toArray(), [1, 2]);
});
