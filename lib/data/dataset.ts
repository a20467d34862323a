// Token datasets: a text tokenized and split into seeded train/validation streams, for one corpus or for every domain
// of the multi-domain mix under one shared tokenizer. Reference: nanoGPT's prepare.py (train.bin / val.bin).
import { DEFAULT_MIX, DOMAINS, DomainName, loadDomains, MixConfig } from "./mix";
import { DEFAULT_SPLIT, splitTokens, SplitConfig } from "./split";
import { ByteTokenizer, CharTokenizer, Tokenizer } from "./tokenizer";
import { withDefaults } from "../check";

/** A tokenized, split text. */
export interface TokenDataset {
  /** Name of the corpus or domain. */
  name: string;
  /** Training tokens. */
  train: Int32Array;
  /** Validation tokens. */
  val: Int32Array;
}

/** How to turn text into token datasets. */
export interface DatasetConfig {
  /** "byte" (vocabulary 256) or "char" (the texts' own alphabet). */
  tokenizer: "byte" | "char";
  /** Train/validation split. */
  split: SplitConfig;
}

/** Byte tokens, the default split. */
export const DEFAULT_DATASET: Readonly<DatasetConfig> = Object.freeze({ tokenizer: "byte", split: DEFAULT_SPLIT });

/** A tokenizer of the kind asked for; "char" gets the alphabet of `texts`. */
export function makeTokenizer(kind: DatasetConfig["tokenizer"], texts: readonly string[]): Tokenizer {
  if (kind === "byte") return new ByteTokenizer();
  if (kind === "char") return CharTokenizer.fromText(...texts);
  throw new Error(`makeTokenizer(kind, texts): kind must be "byte" or "char", got ${JSON.stringify(kind)}`);
}

/** `text` tokenized with `tokenizer` and split with `split`. */
export function textDataset(
  name: string,
  text: string,
  tokenizer: Tokenizer,
  split: Partial<SplitConfig> = {},
): TokenDataset {
  return {
    name,
    ...splitTokens(
      tokenizer.encode(text),
      withDefaults("textDataset(name, text, tokenizer, split)", DEFAULT_SPLIT, split),
    ),
  };
}

/** The domains of the mix (all, or `names`), one shared tokenizer, each domain split on its own. */
export interface MixDatasets {
  tokenizer: Tokenizer;
  domains: TokenDataset[];
}

/** Settings of mixDatasets: the mix (seed, generated size, prefix) and the tokenization. */
export type MixDatasetsConfig = MixConfig & { tokenizer: DatasetConfig["tokenizer"]; split: Partial<SplitConfig> };

/** Tokenized, split domains of the multi-domain mix (prose, code, json, arithmetic by default). */
export function mixDatasets(
  config: Partial<MixDatasetsConfig> = {},
  names: readonly DomainName[] = DOMAINS,
): MixDatasets {
  const {
    tokenizer: kind,
    split,
    ...mix
  } = withDefaults("mixDatasets(config)", { ...DEFAULT_MIX, ...DEFAULT_DATASET }, config);
  const domains = loadDomains(mix, names);
  const tokenizer = makeTokenizer(
    kind,
    domains.map((d) => d.text),
  );
  return { tokenizer, domains: domains.map((d) => textDataset(d.name, d.text, tokenizer, split)) };
}
