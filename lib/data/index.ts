// Data (tokenizers, datasets, batching) — public API of this area (filled in by its issue).
export {};
