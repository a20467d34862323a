// Synthetic JSON records, one compact object per line (JSON Lines): the structured-data domain of the multi-domain
// mix. Seeded, so the same seed gives the same bytes. Reference: the JSON Lines format (https://jsonlines.org).
import { linesWithin } from "./generated-text";
import { Rng } from "../random";

const FIRST = [
  "Elinor",
  "Marianne",
  "Edward",
  "Fanny",
  "Emma",
  "George",
  "Anne",
  "Frederick",
  "Catherine",
  "Henry",
  "Jane",
  "Charles",
];
const LAST = [
  "Dashwood",
  "Bennet",
  "Darcy",
  "Price",
  "Woodhouse",
  "Knightley",
  "Elliot",
  "Wentworth",
  "Morland",
  "Tilney",
];
const CITIES = ["Bath", "London", "Highbury", "Barton", "Meryton", "Portsmouth", "Lyme", "Northanger", "Pemberley"];
const TAGS = ["alpha", "beta", "gamma", "delta", "urgent", "archived", "draft", "review", "shipped", "blocked"];
const STATUS = ["open", "closed", "pending", "failed"];

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

/** One record: nested objects, arrays, strings, integers, decimals, booleans and null. */
export function jsonRecord(rng: Rng, id: number): Record<string, unknown> {
  const tags = Array.from({ length: rng.int(4) }, () => pick(rng, TAGS));
  const items = Array.from({ length: 1 + rng.int(3) }, () => ({
    sku: `${pick(rng, TAGS).slice(0, 3).toUpperCase()}-${rng.int(10000)}`,
    qty: 1 + rng.int(9),
    price: rng.int(100000) / 100,
  }));
  return {
    id,
    name: `${pick(rng, FIRST)} ${pick(rng, LAST)}`,
    age: 18 + rng.int(60),
    active: rng.int(2) === 1,
    status: pick(rng, STATUS),
    address: { city: pick(rng, CITIES), zip: String(10000 + rng.int(90000)) },
    tags,
    items,
    note: rng.int(4) === 0 ? null : `ref ${rng.int(1000)}`,
  };
}

/** JSON Lines from a stream seeded with `seed`: as many whole records as fit in `bytes`. */
export function jsonText(seed: number, bytes: number): string {
  const rng = new Rng(seed);
  let id = 0;
  return linesWithin("jsonText(seed, bytes)", bytes, () => JSON.stringify(jsonRecord(rng, ++id)) + "\n");
}
