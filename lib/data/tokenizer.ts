// Tokenizers: byte-level (UTF-8 bytes, vocabulary 256) and character-level (one id per Unicode code point of a
// fixed alphabet). Reference: nanoGPT's shakespeare_char `prepare.py` (sorted character vocabulary, stoi/itos) and
// the byte-level fallback of GPT-2/ByT5 (ids = UTF-8 bytes).

/** What every tokenizer offers: text ⇄ int32 ids, and a JSON description to save with a checkpoint. */
export interface Tokenizer {
  /** "byte" or "char". */
  readonly kind: "byte" | "char";
  /** Number of distinct ids; every id is in [0, vocabSize). */
  readonly vocabSize: number;
  /** Ids of `text`. */
  encode(text: string): Int32Array;
  /** Text of `ids` (the inverse of encode). */
  decode(ids: ArrayLike<number>): string;
  /** A JSON-serialisable description; `tokenizerFromJSON` rebuilds the tokenizer from it. */
  toJSON(): TokenizerJSON;
}

/** The saved form of a tokenizer. */
export type TokenizerJSON = { kind: "byte" } | { kind: "char"; chars: string };

function checkIds(fn: string, ids: ArrayLike<number>, vocabSize: number): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) {
      throw new Error(`${fn}: ids[${i}] must be an integer in [0, ${vocabSize}), got ${id}`);
    }
  }
}

/**
 * UTF-8 bytes as ids (vocabulary 256). Round-trips every string made of whole code points; a lone UTF-16 surrogate
 * is not valid Unicode and encodes as U+FFFD, as TextEncoder does.
 */
export class ByteTokenizer implements Tokenizer {
  readonly kind = "byte" as const;
  readonly vocabSize = 256;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder("utf-8");

  encode(text: string): Int32Array {
    return Int32Array.from(this.encoder.encode(text));
  }

  decode(ids: ArrayLike<number>): string {
    checkIds("ByteTokenizer.decode(ids)", ids, this.vocabSize);
    return this.decoder.decode(Uint8Array.from(ids));
  }

  toJSON(): TokenizerJSON {
    return { kind: "byte" };
  }
}

/** One id per code point of a fixed alphabet, ids in the alphabet's code-point order. */
export class CharTokenizer implements Tokenizer {
  readonly kind = "char" as const;
  /** The alphabet: distinct code points, ascending; id i is chars[i]. */
  readonly chars: readonly string[];
  private readonly ids = new Map<string, number>();

  /** `alphabet`: the characters of the vocabulary (any order, duplicates allowed; they are sorted and deduplicated). */
  constructor(alphabet: string) {
    if (typeof alphabet !== "string" || alphabet.length === 0) {
      throw new Error(`CharTokenizer(alphabet): expected a non-empty string, got ${JSON.stringify(alphabet)}`);
    }
    this.chars = [...new Set(Array.from(alphabet))].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    this.chars.forEach((c, i) => this.ids.set(c, i));
  }

  /** The tokenizer whose alphabet is every character that occurs in `texts`. */
  static fromText(...texts: string[]): CharTokenizer {
    const seen = new Set<string>();
    for (const text of texts) for (const c of text) seen.add(c);
    return new CharTokenizer([...seen].join(""));
  }

  get vocabSize(): number {
    return this.chars.length;
  }

  encode(text: string): Int32Array {
    const out = new Int32Array(text.length); // code points ≤ UTF-16 units; trimmed below
    let n = 0;
    for (const c of text) {
      const id = this.ids.get(c);
      if (id === undefined) {
        const code = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
        throw new Error(
          `CharTokenizer.encode(text): character ${JSON.stringify(c)} (U+${code}) at index ${n} is not in the vocabulary of ${this.vocabSize}`,
        );
      }
      out[n++] = id;
    }
    return n === out.length ? out : out.slice(0, n);
  }

  decode(ids: ArrayLike<number>): string {
    checkIds("CharTokenizer.decode(ids)", ids, this.vocabSize);
    let text = "";
    for (let i = 0; i < ids.length; i++) text += this.chars[ids[i]];
    return text;
  }

  toJSON(): TokenizerJSON {
    return { kind: "char", chars: this.chars.join("") };
  }
}

/** Rebuilds a tokenizer from its `toJSON()` form. */
export function tokenizerFromJSON(json: TokenizerJSON): Tokenizer {
  if (json?.kind === "byte") return new ByteTokenizer();
  if (json?.kind === "char") return new CharTokenizer(json.chars);
  throw new Error(
    `tokenizerFromJSON(json): kind must be "byte" or "char", got ${JSON.stringify((json as { kind?: unknown })?.kind)}`,
  );
}
