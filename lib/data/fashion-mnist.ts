// Fashion-MNIST loader: the IDX files (gzip) of datasets/fashion-mnist (test split, shipped) and of Debian's
// dataset-fashion-mnist package (train split), checked against manifest.json's sha256, and batches as float tensors
// (pixels / 255, zero-padded from 28×28 to 32×32 = 1024 inputs, so 1×128 groups and 128×128 blocks divide them).
// Reference: Xiao, Rasul & Vollgraf 2017, "Fashion-MNIST" (arXiv 1708.07747); IDX format of LeCun's MNIST page.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import * as tf from "@tensorflow/tfjs";
import { repoRoot } from "../repo-root";

/** The class names, by label. */
export const FASHION_MNIST_CLASSES = Object.freeze([
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
]);

/** Where Debian's dataset-fashion-mnist package puts the files. */
export const DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist";

/** Images and labels of one split. */
export interface ImageSet {
  /** Pixels, count × rows × cols, 0–255. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

function datasetDir(): string {
  return path.join(repoRoot(), "datasets", "fashion-mnist");
}

function readChecked(dir: string, name: string, fallbackDir: string | null): Buffer {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as {
    files: Record<string, { sha256: string }>;
  };
  const file = [dir, fallbackDir]
    .filter((d): d is string => d !== null)
    .map((d) => path.join(d, name))
    .find((f) => fs.existsSync(f));
  if (!file)
    throw new Error(
      `loadFashionMnist: ${name} not found in ${dir}${fallbackDir ? ` or ${fallbackDir} (apt-get install dataset-fashion-mnist)` : ""}`,
    );
  const bytes = fs.readFileSync(file);
  const sha = crypto.createHash("sha256").update(bytes).digest("hex");
  if (sha !== manifest.files[name]?.sha256)
    throw new Error(`loadFashionMnist: ${file} has sha256 ${sha}, manifest.json says ${manifest.files[name]?.sha256}`);
  return zlib.gunzipSync(bytes);
}

/** Parses an IDX file: magic 0x0000 08 (uint8) dims, then big-endian int32 sizes, then the data. */
export function parseIdx(buf: Buffer): { dims: number[]; data: Uint8Array } {
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 0x08)
    throw new Error("parseIdx(buf): not an IDX file of unsigned bytes");
  const rank = buf[3];
  const dims = Array.from({ length: rank }, (_, i) => buf.readInt32BE(4 + 4 * i));
  const offset = 4 + 4 * rank;
  const size = dims.reduce((p, d) => p * d, 1);
  if (buf.length !== offset + size)
    throw new Error(`parseIdx(buf): header says ${size} values, file holds ${buf.length - offset}`);
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + offset, size) };
}

/** One split: "test" (shipped) or "train" (Debian's package). */
export function loadFashionMnist(split: "train" | "test"): ImageSet {
  if (split !== "train" && split !== "test")
    throw new Error(`loadFashionMnist(split): split must be "train" or "test", got ${JSON.stringify(split)}`);
  const dir = datasetDir();
  const prefix = split === "test" ? "t10k" : "train";
  const fallback = split === "train" ? DEBIAN_FASHION_MNIST : null;
  const images = parseIdx(readChecked(dir, `${prefix}-images-idx3-ubyte.gz`, fallback));
  const labels = parseIdx(readChecked(dir, `${prefix}-labels-idx1-ubyte.gz`, fallback));
  if (images.dims[0] !== labels.dims[0])
    throw new Error(`loadFashionMnist: ${images.dims[0]} images but ${labels.dims[0]} labels`);
  return {
    images: images.data,
    labels: labels.data,
    count: images.dims[0],
    rows: images.dims[1],
    cols: images.dims[2],
  };
}

/** Items [begin, end) of a set. */
export function sliceImages(set: ImageSet, begin: number, end: number): ImageSet {
  const px = set.rows * set.cols;
  return {
    ...set,
    images: set.images.subarray(begin * px, end * px),
    labels: set.labels.subarray(begin, end),
    count: end - begin,
  };
}

/** Train and test sets: Debian's 60k train split when installed, else the first 8,000 shipped test images. */
export function fashionMnistSplits(): { train: ImageSet; test: ImageSet; source: string } {
  const test = loadFashionMnist("test");
  if (fs.existsSync(path.join(DEBIAN_FASHION_MNIST, "train-images-idx3-ubyte.gz"))) {
    return {
      train: loadFashionMnist("train"),
      test,
      source: "train 60,000 (Debian dataset-fashion-mnist), test 10,000",
    };
  }
  return {
    train: sliceImages(test, 0, 8000),
    test: sliceImages(test, 8000, 10000),
    source: "train = test images 0–7,999, test = 8,000–9,999 (dataset-fashion-mnist not installed)",
  };
}

/** Side of the padded square image: 32 (28×28 centred, zero border). */
export const PADDED_SIDE = 32;

/** The images at `indices` as x [B, 1024] (pixels / 255, padded to 32×32) and class labels y [B] (int32). */
export function imageBatch(set: ImageSet, indices: ArrayLike<number>): { x: tf.Tensor2D; y: tf.Tensor1D } {
  const b = indices.length;
  const side = PADDED_SIDE;
  const pad = (side - set.rows) >> 1;
  const x = new Float32Array(b * side * side);
  const y = new Int32Array(b);
  for (let i = 0; i < b; i++) {
    const item = indices[i];
    if (!(item >= 0 && item < set.count))
      throw new Error(`imageBatch(set, indices): index ${item} outside [0, ${set.count})`);
    for (let r = 0; r < set.rows; r++) {
      for (let c = 0; c < set.cols; c++)
        x[i * side * side + (r + pad) * side + c + pad] = set.images[(item * set.rows + r) * set.cols + c] / 255;
    }
    y[i] = set.labels[item];
  }
  return { x: tf.tensor2d(x, [b, side * side]), y: tf.tensor1d(y, "int32") };
}
