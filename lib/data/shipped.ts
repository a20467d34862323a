// Shipped text corpora (datasets/<name>/): each folder holds a gzipped text, a README and a manifest.json with source,
// license, sha256, byte count and vocabulary (DESIGN.md §5.9). Loading checks the sha256, so a corrupted or edited
// file is an error, not a silently different experiment. Nothing is downloaded.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { repoRoot } from "../repo-root";

/** What a manifest says about one text (a shipped file or a generated domain). */
export interface TextManifest {
  /** Where the text comes from: a URL, a package and file, or the generator call that makes it. */
  source: string;
  /** Its license. */
  license: string;
  /** File holding the gzipped text, relative to the manifest (absent for generated text). */
  file?: string;
  /** sha256 (hex) of the UTF-8 text (after gunzip). */
  sha256: string;
  /** UTF-8 byte count of the text. */
  bytes: number;
  /** Vocabulary of the text: its distinct characters (ascending code points) and distinct bytes. */
  vocab: { chars: string; distinctChars: number; distinctBytes: number };
}

/** The shipped corpora by name (the folder under datasets/). */
export const SHIPPED_CORPORA = Object.freeze(["austen", "typescript-lib"] as const);
export type ShippedCorpus = (typeof SHIPPED_CORPORA)[number];

/** The repository's datasets/ folder. */
export function datasetsDir(): string {
  return path.join(repoRoot(), "datasets");
}

/** sha256 (hex) of a string's UTF-8 bytes. */
export function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The manifest fields computed from a text (everything but source, license and file). */
export function describeText(text: string): Pick<TextManifest, "sha256" | "bytes" | "vocab"> {
  const bytes = new TextEncoder().encode(text);
  const distinct = new Set<number>(bytes);
  const chars = [...new Set(Array.from(text))].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  return {
    sha256: sha256(text),
    bytes: bytes.length,
    vocab: { chars: chars.join(""), distinctChars: chars.length, distinctBytes: distinct.size },
  };
}

/** The manifest of a shipped corpus. */
export function corpusManifest(name: ShippedCorpus): TextManifest {
  if (!SHIPPED_CORPORA.includes(name)) {
    throw new Error(`corpusManifest(name): expected one of ${SHIPPED_CORPORA.join(", ")}, got ${JSON.stringify(name)}`);
  }
  return JSON.parse(readFileSync(path.join(datasetsDir(), name, "manifest.json"), "utf8")) as TextManifest;
}

const cache = new Map<ShippedCorpus, string>();

/** The text of a shipped corpus, checked against its manifest's sha256 and byte count (cached after the first read). */
export function loadCorpus(name: ShippedCorpus): string {
  const manifest = corpusManifest(name);
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const file = path.join(datasetsDir(), name, manifest.file!);
  const text = gunzipSync(readFileSync(file)).toString("utf8");
  const got = sha256(text);
  if (got !== manifest.sha256)
    throw new Error(`loadCorpus("${name}"): ${file} has sha256 ${got}, the manifest says ${manifest.sha256}`);
  cache.set(name, text);
  return text;
}
