// Quantization (FP8, INT8/INT4, scaling, fake-quant) — public API of this area (filled in by its issue).
export {};
