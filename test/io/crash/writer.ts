// Child process for the crash-safety test: writes checkpoints in a loop until killed.
// Each checkpoint's tensors all hold the iteration number, and its size varies, so a torn or
// mixed file is detectable. Prints "saved <i>" after each completed write.
import { saveCheckpoint } from "../../../src/io/fs.js";
import { Tensor } from "../../../src/tensor/tensor.js";

const path = process.argv[2]!;
const model = (i: number) => ({
  stateDict: () => new Map([
    ["a", new Tensor(new Float32Array(1000 + (i % 7) * 5000).fill(i), [1000 + (i % 7) * 5000])],
    ["b", new Tensor(new Float64Array(300).fill(i), [300])],
  ]),
  loadStateDict: () => undefined,
});
for (let i = 1; ; i++) {
  await saveCheckpoint(path, { model: model(i), step: i, extra: { i } });
  process.stdout.write(`saved ${i}\n`);
}
