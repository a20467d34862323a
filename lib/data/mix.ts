// The multi-domain mix: prose (Jane Austen), TypeScript source (the ES lib.*.d.ts files of the typescript package),
// JSON Lines and arithmetic, each with a manifest entry (source, license, sha256, bytes, vocab) in
// datasets/mix/manifest.json. Shipped domains are read from datasets/; generated ones are rebuilt from their seed,
// and checked against the manifest when made with the manifest's seed and size. Reference: the articles' "data
// composition" pies (web text, code, math, structured data).
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { arithmeticText } from "./arithmetic-problems";
import { jsonText } from "./json-text";
import { datasetsDir, loadCorpus, sha256, ShippedCorpus, TextManifest } from "./shipped";
import { withDefaults } from "../check";

/** The domains of the mix, in a fixed order (a domain's index is its id in batches). */
export const DOMAINS = Object.freeze(["prose", "code", "json", "arithmetic"] as const);
export type DomainName = (typeof DOMAINS)[number];

/** A generated domain's generator call, as recorded in the manifest. */
export interface GeneratorManifest {
  /** Seed passed to the generator. */
  seed: number;
  /** Byte budget passed to the generator. */
  bytes: number;
}

/** The mix manifest: one entry per domain. */
export interface MixManifest {
  domains: Record<DomainName, TextManifest & { generator?: GeneratorManifest }>;
}

/** Mix settings. */
export interface MixConfig {
  /** Seed of the generated domains (json, arithmetic). */
  seed: number;
  /** Byte budget of each generated domain. */
  generatedBytes: number;
  /** Keep at most this many characters of each domain (a prefix); null keeps everything. */
  maxChars: number | null;
}

/** The manifest's generator settings (seed 0, about the size of the code domain), whole texts. */
export const DEFAULT_MIX: Readonly<MixConfig> = Object.freeze({ seed: 0, generatedBytes: 600_000, maxChars: null });

/** One domain's text and provenance. */
export interface Domain {
  name: DomainName;
  text: string;
  manifest: TextManifest;
}

const SHIPPED: Partial<Record<DomainName, ShippedCorpus>> = { prose: "austen", code: "typescript-lib" };

/** The mix manifest (datasets/mix/manifest.json). */
export function mixManifest(): MixManifest {
  return JSON.parse(readFileSync(path.join(datasetsDir(), "mix", "manifest.json"), "utf8")) as MixManifest;
}

function generate(name: DomainName, seed: number, bytes: number): string {
  return name === "json" ? jsonText(seed, bytes) : arithmeticText(seed, bytes);
}

/** The text of one domain, whole (before any maxChars cut), checked against the manifest where it applies. */
export function domainText(name: DomainName, config: Partial<MixConfig> = {}): string {
  const cfg = withDefaults("domainText(config)", DEFAULT_MIX, config);
  if (!DOMAINS.includes(name))
    throw new Error(`domainText(name): expected one of ${DOMAINS.join(", ")}, got ${JSON.stringify(name)}`);
  const shipped = SHIPPED[name];
  if (shipped) return loadCorpus(shipped);
  const text = generate(name, cfg.seed, cfg.generatedBytes);
  const entry = mixManifest().domains[name];
  if (entry.generator && entry.generator.seed === cfg.seed && entry.generator.bytes === cfg.generatedBytes) {
    const got = sha256(text);
    if (got !== entry.sha256) {
      throw new Error(
        `domainText("${name}"): the generator gives sha256 ${got} for seed ${cfg.seed}, the manifest says ${entry.sha256}`,
      );
    }
  }
  return text;
}

/** Every domain of the mix (or the `names` given), cut to `maxChars`, with its manifest entry. */
export function loadDomains(config: Partial<MixConfig> = {}, names: readonly DomainName[] = DOMAINS): Domain[] {
  const cfg = withDefaults("loadDomains(config)", DEFAULT_MIX, config);
  if (cfg.maxChars !== null && !(Number.isSafeInteger(cfg.maxChars) && cfg.maxChars > 0)) {
    throw new Error(`loadDomains(config): maxChars must be a positive integer or null, got ${cfg.maxChars}`);
  }
  const manifest = mixManifest();
  return names.map((name) => {
    const text = domainText(name, cfg);
    return { name, text: cfg.maxChars === null ? text : text.slice(0, cfg.maxChars), manifest: manifest.domains[name] };
  });
}
