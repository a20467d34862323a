// Data (tokenizers, datasets, batching): the public API of this area, `lab.data`.
//
//   const { tokenizer, domains } = lab.data.mixDatasets({ maxChars: 200_000 });     // prose, code, json, arithmetic
//   const austen = lab.data.textDataset("austen", lab.data.loadCorpus("austen"), new lab.data.ByteTokenizer());
//   const batches = lab.data.randomBatches(austen.train, { batchSize: 16, seqLen: 64, seed });  // (step) => Batch
//   const val = lab.data.evalBatches(austen.val, { batchSize: 16, seqLen: 64, maxBatches: 8 }); // val.batch(i)
//
// A Batch is { inputs, targets }: int32 [B, T] tensors, targets shifted by one token; the caller disposes them
// (lab.train.fit does). Batches are pure functions of (seed, step), splits of (seed, blockSize, valFraction).
export { ByteTokenizer, CharTokenizer, tokenizerFromJSON } from "./tokenizer";
export type { Tokenizer, TokenizerJSON } from "./tokenizer";
export { corpusManifest, datasetsDir, describeText, loadCorpus, sha256, SHIPPED_CORPORA } from "./shipped";
export type { ShippedCorpus, TextManifest } from "./shipped";
export {
  arithmeticProblem,
  arithmeticText,
  checkArithmeticAnswer,
  DEFAULT_ARITHMETIC,
  evaluateArithmetic,
} from "./arithmetic-problems";
export type { ArithmeticConfig, ArithmeticOp, ArithmeticProblem } from "./arithmetic-problems";
export { jsonRecord, jsonText } from "./json-text";
export { DEFAULT_MIX, DOMAINS, domainText, loadDomains, mixManifest } from "./mix";
export type { Domain, DomainName, GeneratorManifest, MixConfig, MixManifest } from "./mix";
export { DEFAULT_SPLIT, splitTokens } from "./split";
export type { Split, SplitConfig } from "./split";
export { DEFAULT_BATCH, evalBatches, mixtureBatches, randomBatches, stepSeed, windowBatch } from "./batch";
export type { Batch, BatchConfig, EvalSet, EvalSetConfig, MixtureBatch } from "./batch";
export { DEFAULT_DATASET, makeTokenizer, mixDatasets, textDataset } from "./dataset";
export type { DatasetConfig, MixDatasets, MixDatasetsConfig, TokenDataset } from "./dataset";
export {
  DEBIAN_FASHION_MNIST,
  FASHION_MNIST_CLASSES,
  PADDED_SIDE,
  fashionMnistSplits,
  imageBatch,
  loadFashionMnist,
  sliceImages,
} from "./fashion-mnist";
export type { ImageSet } from "./fashion-mnist";
export { DEFAULT_SKEWED_STREAM, SkewedStream } from "./skewed-stream";
export type { SkewedStreamConfig } from "./skewed-stream";
