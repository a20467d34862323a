// Child process of checkpoint-atomic.test.ts: saves checkpoints (model + optimizer) under argv[2] from step argv[3]
// on, forever, two saves per step (the second replaces the first), and prints "saved <step> <version>" after each
// save returns ("saving …" before it starts). What (step, version) holds is a pure function of both (./checkpoint-fixture.ts).
import * as tf from "@tensorflow/tfjs";
import * as path from "node:path";
import { checkpointName, saveCheckpoint } from "../../lib/train/checkpoint";
import { SaverModel, fillState } from "./checkpoint-fixture";

async function main(): Promise<void> {
  await tf.setBackend("cpu");
  const [dir, first] = [process.argv[2], Number(process.argv[3])];
  const model = new SaverModel();
  process.stdout.write("ready\n");
  for (let k = 0; ; k++) {
    const step = first + Math.floor(k / 2);
    const version = k % 2;
    const optimizer = fillState(model, step, version);
    process.stdout.write(`saving ${step} ${version}\n`);
    saveCheckpoint(path.join(dir, checkpointName(step)), {
      module: model,
      optimizer,
      step,
      seed: step,
      config: { version },
    });
    optimizer.dispose();
    process.stdout.write(`saved ${step} ${version}\n`);
  }
}
void main();
