// Shipped corpora and the mix manifest: every manifest entry matches the text it describes (sha256, bytes, vocabulary,
// recomputed here with node:crypto on the raw file), READMEs state source and license, generated domains are
// reproducible from their seed.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { corpusManifest, datasetsDir, loadCorpus, SHIPPED_CORPORA } from "../../lib/data/shipped";
import { DOMAINS, domainText, loadDomains, mixManifest } from "../../lib/data/mix";

const hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("shipped corpora", () => {
  for (const name of SHIPPED_CORPORA) {
    it(`${name}: the manifest matches the gunzipped file, the README names source, license and sha256`, () => {
      const m = corpusManifest(name);
      const raw = gunzipSync(readFileSync(path.join(datasetsDir(), name, m.file!)));
      expect(hex(raw)).toBe(m.sha256);
      expect(raw.length).toBe(m.bytes);
      expect(new Set(raw).size).toBe(m.vocab.distinctBytes);
      const text = raw.toString("utf8");
      expect(new Set(text).size).toBe(m.vocab.distinctChars);
      expect(Array.from(m.vocab.chars).length).toBe(m.vocab.distinctChars);
      expect(loadCorpus(name)).toBe(text);
      const readme = readFileSync(path.join(datasetsDir(), name, "README.md"), "utf8");
      expect(readme).toMatch(/Source|source/);
      expect(readme).toMatch(/License|license/);
      expect(readme).toContain(m.sha256);
      expect(m.license.length).toBeGreaterThan(5);
    });
  }
  it("austen is the 4,025,029-byte text of the shared copy", () => {
    expect(corpusManifest("austen").bytes).toBe(4_025_029);
    expect(corpusManifest("austen").sha256).toBe("65b434d16a8755142bfa95ba19c5f9abd0d30cf3dffe3b6793e834f9f56dcc96");
  });
  it("the TypeScript corpus ships its Apache-2.0 license", () => {
    expect(readFileSync(path.join(datasetsDir(), "typescript-lib", "LICENSE.txt"), "utf8")).toContain("Apache License");
    expect(loadCorpus("typescript-lib")).toContain("// ==> typescript/lib/lib.es5.d.ts <==");
  });
  it("rejects an unknown corpus by name", () => {
    expect(() => corpusManifest("shakespeare" as never)).toThrow(
      'corpusManifest(name): expected one of austen, typescript-lib, got "shakespeare"',
    );
  });
});

describe("multi-domain mix", () => {
  it("has a manifest entry per domain whose shipped files exist and whose generated texts match (seed, bytes)", () => {
    const m = mixManifest();
    expect(Object.keys(m.domains)).toEqual([...DOMAINS]);
    for (const name of DOMAINS) {
      const entry = m.domains[name];
      for (const key of ["source", "license", "sha256"] as const) expect(entry[key].length).toBeGreaterThan(5);
      if (entry.file) expect(existsSync(path.join(datasetsDir(), "mix", entry.file))).toBe(true);
      const text = domainText(
        name,
        entry.generator ? { seed: entry.generator.seed, generatedBytes: entry.generator.bytes } : {},
      );
      expect(hex(Buffer.from(text, "utf8"))).toBe(entry.sha256);
      expect(Buffer.byteLength(text)).toBe(entry.bytes);
    }
  });
  it("generated domains change with the seed and cut to maxChars", () => {
    const [a, b] = [0, 1].map((seed) =>
      loadDomains({ seed, generatedBytes: 5000, maxChars: 1000 }, ["json", "arithmetic"]),
    );
    for (const d of [...a, ...b]) expect(d.text.length).toBe(1000);
    expect(a[0].text).not.toBe(b[0].text);
    expect(a[1].text).not.toBe(b[1].text);
  });
  it("rejects an unknown domain and a bad maxChars", () => {
    expect(() => domainText("poetry" as never)).toThrow(
      "domainText(name): expected one of prose, code, json, arithmetic",
    );
    expect(() => loadDomains({ maxChars: 0 })).toThrow(
      "loadDomains(config): maxChars must be a positive integer or null, got 0",
    );
  });
});

describe("mixDatasets", () => {
  it("tokenizes every domain with one tokenizer and splits each one completely", async () => {
    const { mixDatasets } = await import("../../lib/data/dataset");
    const texts = loadDomains({ maxChars: 20_000 });
    const byte = mixDatasets({ maxChars: 20_000, split: { blockSize: 512 } });
    expect(byte.tokenizer.vocabSize).toBe(256);
    byte.domains.forEach((d, i) => {
      expect(d.name).toBe(DOMAINS[i]);
      expect(d.train.length + d.val.length).toBe(byte.tokenizer.encode(texts[i].text).length);
      expect(d.val.length).toBeGreaterThan(0);
    });
    const char = mixDatasets({ maxChars: 20_000, tokenizer: "char", split: { blockSize: 512 } }, [
      "prose",
      "arithmetic",
    ]);
    expect(char.tokenizer.vocabSize).toBe(new Set(texts[0].text + texts[3].text).size);
    expect(char.domains.map((d) => d.name)).toEqual(["prose", "arithmetic"]);
  });
});
