// Runs under Deno and under Node (test/deno.test.ts): the library as a user imports it, on the cpu backend, seeded.
import * as lab from "moelab";

async function main(): Promise<void> {
  const line = await lab.init({ backend: "cpu", seed: 3 });
  const t = lab.tf.tidy(() => lab.tf.matMul(lab.randomNormal([4, 8]), lab.randomNormal([8, 2]))); // [4, 2]
  console.log(JSON.stringify({ banner: line, shape: t.shape, values: Array.from(await t.data()) }));
}

main();
