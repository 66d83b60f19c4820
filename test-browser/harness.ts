/**
 * Shared by the browser test and the browser example's screenshot: bundle a page script with
 * esbuild, serve it from 127.0.0.1 on a random port, and launch Debian's Chromium through
 * playwright-core (never a browser downloaded by a test tool).
 */
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Where Chromium is: $CHROMIUM_PATH, else Debian's package (`apt-get install -y chromium`). */
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Flags for this machine's closed network: without the background-networking ones Chromium keeps
 * trying to reach Google's hosts. Playwright adds --headless, --no-sandbox (chromiumSandbox is off
 * by default) and a fresh, empty --user-data-dir of its own.
 */
export const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function assertChromium(): void {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `Chromium not found at ${chromiumPath}. Install Debian's package (apt-get install -y chromium), ` +
        `or set CHROMIUM_PATH to a Chromium binary.`,
    );
  }
}

export async function launchChromium(): Promise<Browser> {
  assertChromium();
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs, timeout: 60_000 });
}

/**
 * Bundle a browser script (TypeScript, importing safegrad by relative path) as one ES module.
 *
 * NOTE: `node:*` is external because the main entry re-exports from barrels that also hold the
 * Node-only modules (see scripts/bundle-size.ts); they are dropped as unused. If a `node:` import
 * were left in the output, the page would fail to load it, and the test with it.
 */
export async function bundleScript(entry: string, options: { minify?: boolean } = {}): Promise<string> {
  const r = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: options.minify ?? false,
    sourcemap: "inline",
    write: false,
    logLevel: "silent",
    external: ["node:*"],
  });
  const text = r.outputFiles[0]?.text;
  if (text === undefined) throw new Error(`esbuild produced no output for ${entry}`);
  return text;
}

export interface Route {
  type: string;
  body: string | Uint8Array;
}

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".gz": "application/gzip",
  ".csv": "text/csv; charset=utf-8",
  ".png": "image/png",
  ".json": "application/json",
};

export function contentType(path: string): string {
  const ext = /\.[a-z0-9]+$/i.exec(path)?.[0]?.toLowerCase() ?? "";
  return TYPES[ext] ?? "application/octet-stream";
}

/** Serve fixed routes (path → body) on 127.0.0.1; port 0 picks a free one. */
export function serve(routes: (path: string) => Route | Promise<Route | undefined> | undefined, port = 0): Promise<RunningServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    Promise.resolve(routes(path)).then(
      (r) => {
        if (!r) {
          res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}`);
          return;
        }
        res.writeHead(200, { "content-type": r.type, "cache-control": "no-store" }).end(r.body);
      },
      (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(String(e)),
    );
  });
  return new Promise((resolveServer, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const { port: p } = server.address() as AddressInfo;
      resolveServer({
        url: `http://127.0.0.1:${p}/`,
        server,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
