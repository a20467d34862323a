// Crash-safe file and folder replacement: write to a temporary name in the same folder, fsync the data, rename onto
// the final name (rename(2) is atomic within a file system), fsync the folder so the rename itself is durable. A kill
// at any point leaves either the old content or the new, never a mix. Reference: POSIX rename(2); the
// write-fsync-rename protocol of SQLite's and LevelDB's documentation ("atomic commit", "CURRENT" file).
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import * as path from "node:path";

let counter = 0;

/** A name beside `target` for the temporary copy of this process: ".<name>.<tag>-<pid>-<n>". */
function tempName(target: string, tag: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${tag}-${process.pid}-${counter++}`);
}

/** Writes `data` to `file` and flushes it to the disk (fsync) before returning. The file is created or truncated. */
export function writeFileDurable(file: string, data: Uint8Array | string): void {
  const fd = openSync(file, "w");
  try {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a folder's entries (new names, renames) to the disk. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `file` with `data` atomically: readers (and a crash) see the old bytes or the new ones, never a part. */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = tempName(file, "tmp");
  try {
    writeFileDurable(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(path.dirname(path.resolve(file)));
}

/**
 * Builds a folder atomically: `fill(staging)` writes the new contents into a fresh hidden folder beside `target`
 * (everything it writes must be flushed: use writeFileDurable), which then takes `target`'s name. An existing `target`
 * is first renamed aside and deleted afterwards; a kill between those two renames leaves the previous folder complete
 * under ".<name>.replaced-<pid>-<n>", which readableFolder() finds and the next write of `target` puts back first.
 * Hidden leftovers of killed processes for this target are removed first.
 */
export function writeFolderAtomic(target: string, fill: (staging: string) => void): void {
  const parent = path.dirname(path.resolve(target));
  mkdirSync(parent, { recursive: true });
  removeDeadLeftovers(target);
  const staging = tempName(target, "partial");
  mkdirSync(staging);
  try {
    fill(staging);
    fsyncDir(staging);
    if (existsSync(target)) {
      const aside = tempName(target, "replaced");
      renameSync(target, aside);
      renameSync(staging, target);
      fsyncDir(parent);
      rmSync(aside, { recursive: true, force: true });
    } else {
      renameSync(staging, target);
    }
    fsyncDir(parent);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}

/** Hidden folders beside `target` left by writeFolderAtomic with this tag ("partial" or "replaced"), newest first. */
function leftovers(target: string, tag: string): { file: string; pid: number }[] {
  const parent = path.dirname(path.resolve(target));
  const prefix = `.${path.basename(target)}.${tag}-`;
  if (!existsSync(parent)) return [];
  return readdirSync(parent)
    .filter((name) => name.startsWith(prefix))
    .map((name) => ({ name, parts: name.slice(prefix.length).split("-").map(Number) }))
    .sort((a, b) => b.parts[0] - a.parts[0] || b.parts[1] - a.parts[1])
    .map(({ name, parts }) => ({ file: path.join(parent, name), pid: parts[0] }));
}

/**
 * The folder that holds `target`'s committed contents: `target` itself, or, when a writer was killed between moving
 * the old folder aside and renaming the new one in, that old folder. `target` when neither exists.
 */
export function readableFolder(target: string): string {
  if (existsSync(target)) return target;
  return leftovers(target, "replaced")[0]?.file ?? target;
}

/** Puts back a folder a killed writer moved aside, and removes folders killed writers left half-built. */
function removeDeadLeftovers(target: string): void {
  const dead = (pid: number) => Number.isSafeInteger(pid) && pid !== process.pid && !alive(pid);
  const aside = leftovers(target, "replaced").filter((l) => dead(l.pid));
  if (!existsSync(target) && aside.length) renameSync(aside.shift()!.file, target);
  for (const l of [...aside, ...leftovers(target, "partial").filter((p) => dead(p.pid))])
    rmSync(l.file, { recursive: true, force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
