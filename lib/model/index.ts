// Language models (attention, blocks, presets, generation) — public API of this area (filled in by its issue).
export {};
