// Makes `import ... from "moelab"` resolve inside this checkout (notebooks, the kernel, Deno), the way it
// would for a user who installed the package: node_modules/moelab -> the repository root.
const fs = require("node:fs");
const path = require("node:path");
const root = path.resolve(__dirname, "..");
const link = path.join(root, "node_modules", "moelab");
fs.mkdirSync(path.dirname(link), { recursive: true });
try {
  if (fs.readlinkSync(link) === "..") return;
  fs.unlinkSync(link);
} catch (e) {
  if (e.code !== "ENOENT") fs.rmSync(link, { recursive: true, force: true });
}
fs.symlinkSync("..", link, "dir");
