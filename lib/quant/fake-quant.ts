// Fake quantization for quantization-aware training and FP8 training emulation: the forward pass returns
// dequantize(quantize(x)); the backward pass is the straight-through estimator (Bengio et al. 2013, "Estimating or
// Propagating Gradients Through Stochastic Neurons"): the gradient passes unchanged where x was inside the format's
// range and is 0 where x was clamped (the clipped STE of QAT frameworks). gradQuant is the mirror image: identity
// forward, quantized gradient backward (DeepSeek-V3 §3.3 quantizes the output gradient dY to FP8 before Dgrad/Wgrad).
// The quantizer runs on the host arrays (exact on every backend); the math around it stays in tfjs.
import * as tf from "@tensorflow/tfjs";
import { formatMax } from "./formats";
import { forEachRun } from "./granularity";
import { QuantConfig, QuantizeOptions, QuantizedTensor, quantize } from "./quantized-tensor";

/** 1 where x lies inside q's representable range, 0 where it was clamped. */
function insideRange(values: Float32Array, q: QuantizedTensor): Float32Array {
  const mask = new Float32Array(values.length).fill(1);
  const limit = formatMax(q.format);
  forEachRun(q.layout, (b, begin, end) => {
    for (let i = begin; i < end; i++) if (Math.abs(Math.fround(values[i] / q.scales[b])) > limit) mask[i] = 0;
  });
  return mask;
}

/**
 * dequantize(quantize(x, config)) with a straight-through gradient: dy where |x/scale| is within the format's
 * range, 0 where it was clamped (with scales from the data nothing is clamped, so the gradient is the identity).
 */
export function fakeQuant(
  x: tf.Tensor,
  config: Partial<QuantConfig> = {},
  options: Partial<QuantizeOptions> = {},
): tf.Tensor {
  if (!(x instanceof tf.Tensor)) throw new TypeError(`fakeQuant(x, config): x must be a tf.Tensor, got ${typeof x}`);
  const op = tf.customGrad((input) => {
    const t = input as tf.Tensor;
    const values = t.dataSync() as Float32Array;
    const q = quantize(values, config, { ...options, shape: t.shape.length ? t.shape : [1] });
    // The mask stays a plain array until the backward pass needs it (no tensor to leak when there is none).
    const mask = q.saturated > 0 ? insideRange(values, q) : null;
    return {
      value: tf.tensor(q.dequantize(), t.shape, "float32"),
      gradFunc: (dy: tf.Tensor) => (mask ? tf.mul(dy, tf.tensor(mask, dy.shape, "float32")) : tf.clone(dy)),
    };
  });
  return op(x) as tf.Tensor;
}

/** x unchanged in the forward pass; the gradient flowing back through it is fake-quantized per `config`. */
export function gradQuant(x: tf.Tensor, config: Partial<QuantConfig> = {}): tf.Tensor {
  if (!(x instanceof tf.Tensor)) throw new TypeError(`gradQuant(x, config): x must be a tf.Tensor, got ${typeof x}`);
  const op = tf.customGrad((input) => {
    const t = input as tf.Tensor;
    return {
      value: t.clone(),
      gradFunc: (dy: tf.Tensor) => tf.tensor(quantize(dy, config).dequantize(), dy.shape, "float32"),
    };
  });
  return op(x) as tf.Tensor;
}
