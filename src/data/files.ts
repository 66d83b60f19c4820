import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DataError } from "../errors.js";

/**
 * Read a file from the repository's top-level `data/` folder.
 *
 * NOTE: the path is resolved relative to this module (`src/data/` in the sources, `dist/data/`
 * once built), so both layouts find `<package root>/data/`. Bundlers that move modules break this;
 * their users should fetch the file themselves and call the pure parsers in `parse.ts`.
 */
export function readDataFile(name: string): Buffer {
  const url = new URL(`../../data/${name}`, import.meta.url);
  try {
    return readFileSync(url);
  } catch (e) {
    const path = url.protocol === "file:" ? fileURLToPath(url) : url.href;
    const reason = e instanceof Error ? e.message : String(e);
    throw new DataError(
      "readDataFile",
      `cannot read the embedded data file ${name} at ${path} (${reason}). ` +
        `If this code was bundled or moved, read the file yourself and use parseDigitsCsv/parseIrisCsv.`,
    );
  }
}
