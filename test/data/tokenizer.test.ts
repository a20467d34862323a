// Tokenizers: byte ids are the UTF-8 bytes; char ids index the sorted alphabet; both round-trip; bad input is a named error.
import { describe, expect, it } from "vitest";
import { ByteTokenizer, CharTokenizer, tokenizerFromJSON } from "../../lib/data/tokenizer";
import { loadCorpus } from "../../lib/data/shipped";

const SAMPLES = ["", "Emma Woodhouse, handsome, clever, and rich", "£100 — café ☕ 😀\n\ttabs", "a\u0000b"];

describe("ByteTokenizer", () => {
  const tok = new ByteTokenizer();
  it("encodes to the UTF-8 bytes (hand-computed) with vocabulary 256", () => {
    expect(tok.vocabSize).toBe(256);
    expect(Array.from(tok.encode("Aé£😀"))).toEqual([0x41, 0xc3, 0xa9, 0xc2, 0xa3, 0xf0, 0x9f, 0x98, 0x80]);
  });
  it("round-trips text with multi-byte characters", () => {
    for (const s of SAMPLES) expect(tok.decode(tok.encode(s))).toBe(s);
  });
  it("rejects ids outside [0, 256)", () => {
    expect(() => tok.decode([65, 256])).toThrow(
      "ByteTokenizer.decode(ids): ids[1] must be an integer in [0, 256), got 256",
    );
    expect(() => tok.decode([1.5])).toThrow(/ids\[0\]/);
  });
});

describe("CharTokenizer", () => {
  it("sorts and deduplicates the alphabet by code point", () => {
    const tok = new CharTokenizer("cabca😀");
    expect(tok.chars).toEqual(["a", "b", "c", "😀"]);
    expect(Array.from(tok.encode("ab😀c"))).toEqual([0, 1, 3, 2]);
  });
  it("round-trips every sample with the alphabet of the samples, and 300k characters of Austen", () => {
    const tok = CharTokenizer.fromText(...SAMPLES);
    for (const s of SAMPLES) expect(tok.decode(tok.encode(s))).toBe(s);
    const austen = loadCorpus("austen").slice(0, 300_000);
    const at = CharTokenizer.fromText(austen);
    expect(at.decode(at.encode(austen))).toBe(austen);
  });
  it("names an unknown character with its code point", () => {
    expect(() => new CharTokenizer("ab").encode("abz")).toThrow(
      'CharTokenizer.encode(text): character "z" (U+007A) at index 2 is not in the vocabulary of 2',
    );
  });
  it("rejects an empty alphabet and ids beyond the vocabulary", () => {
    expect(() => new CharTokenizer("")).toThrow("CharTokenizer(alphabet): expected a non-empty string");
    expect(() => new CharTokenizer("ab").decode([2])).toThrow(
      "CharTokenizer.decode(ids): ids[0] must be an integer in [0, 2), got 2",
    );
  });
});

describe("tokenizerFromJSON", () => {
  it("rebuilds both kinds from toJSON (through a JSON string)", () => {
    const char = new CharTokenizer("hello world");
    const back = tokenizerFromJSON(JSON.parse(JSON.stringify(char)));
    expect(back.kind).toBe("char");
    expect(Array.from(back.encode("low"))).toEqual(Array.from(char.encode("low")));
    expect(tokenizerFromJSON(new ByteTokenizer().toJSON()).vocabSize).toBe(256);
  });
  it("rejects an unknown kind", () => {
    expect(() => tokenizerFromJSON({ kind: "bpe" } as never)).toThrow(
      'tokenizerFromJSON(json): kind must be "byte" or "char", got "bpe"',
    );
  });
});
