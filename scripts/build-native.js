// Builds the native addon (native/binding.gyp) with node-gyp during `npm install`. A failed build does not fail the
// install: the library then runs on wasm/cpu and says why (lib/native/addon.ts). MOELAB_NATIVE=0 skips the build.
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const nativeDir = path.resolve(__dirname, "..", "native");
if (process.env.MOELAB_NATIVE === "0") {
  console.log("moelab: MOELAB_NATIVE=0, native addon not built");
  process.exit(0);
}
// Build against the headers of the running Node (no download): npm's nodedir, else the installation's include/.
const prefix = path.dirname(path.dirname(process.execPath));
const nodedir =
  process.env.npm_config_nodedir ||
  (fs.existsSync(path.join(prefix, "include", "node", "node_api.h")) ? prefix : undefined);
const gyp = require.resolve("node-gyp/bin/node-gyp.js");
const dirArgs = nodedir ? [`--nodedir=${nodedir}`] : [];
// configure (re-lists native/src/*.cc) then an incremental build.
let result = spawnSync(process.execPath, [gyp, "configure", ...dirArgs], { cwd: nativeDir, stdio: "inherit" });
if (result.status === 0) {
  result = spawnSync(process.execPath, [gyp, "build", "--jobs", "max", ...dirArgs], {
    cwd: nativeDir,
    stdio: "inherit",
  });
}
if (result.status !== 0) {
  console.warn(
    `moelab: the native addon failed to build (node-gyp exit ${result.status}); ` +
      "the library will use the wasm/cpu backends. Rebuild with `npm run build:native`.",
  );
}
