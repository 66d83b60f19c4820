/**
 * `npm run example:browser`: serve the browser example on http://127.0.0.1:8173/ (`-- --port N`,
 * `--port 0` for any free port; `--host 0.0.0.0` to reach it from another machine).
 *
 * esbuild bundles main.ts and worker.ts (with safegrad inside) on every page load, so edits show
 * up on reload; data/digits.csv.gz is served as stored (gzip bytes, no Content-Encoding) for the
 * worker to inflate with DecompressionStream.
 */
import { build } from "esbuild";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseCli } from "../../scripts/cli.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");

async function bundleApp(): Promise<Map<string, string>> {
  const r = await build({
    entryPoints: { main: join(here, "main.ts"), worker: join(here, "worker.ts") },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: "inline",
    outdir: "/out",
    write: false,
    logLevel: "silent",
    // NOTE: the main entry re-exports from barrels that also hold Node-only modules; they are unused here and dropped.
    external: ["node:*"],
  });
  return new Map(r.outputFiles.map((f) => [`/${f.path.split("/").pop()!}`, f.text]));
}

export interface ExampleServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startExampleServer(port = 8173, host = "127.0.0.1"): Promise<ExampleServer> {
  let bundles = await bundleApp(); // fail early on a build error
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const reply = (type: string, body: string | Buffer): void => {
      res.writeHead(200, { "content-type": type, "cache-control": "no-store" }).end(body);
    };
    (async () => {
      if (path === "/" || path === "/index.html") {
        bundles = await bundleApp();
        reply("text/html; charset=utf-8", await readFile(join(here, "index.html")));
      } else if (bundles.has(path)) {
        reply("text/javascript; charset=utf-8", bundles.get(path)!);
      } else if (path === "/data/digits.csv.gz") {
        reply("application/gzip", await readFile(join(root, "data", "digits.csv.gz")));
      } else {
        res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}`);
      }
    })().catch((e: unknown) => {
      console.error(e);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(e));
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => ok());
  });
  const { port: p } = server.address() as AddressInfo;
  return { url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${p}/`, server, close: () => new Promise((done) => server.close(() => done())) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseCli({
    command: "npm run example:browser --",
    description: `Serve the browser example (train a classifier on the digits in a Web Worker, draw a digit to
classify) at http://HOST:PORT/. The page is bundled with esbuild on every load, so edits show up
on reload.`,
    options: {
      port: { type: "integer", default: 8173, min: 0, max: 65535, value: "N", help: "the port (0: any free port)" },
      host: { type: "string", default: "127.0.0.1", value: "HOST", help: "the address to listen on (0.0.0.0: reachable from other machines)" },
    },
  });
  startExampleServer(values.port, values.host).then(
    (s) => console.log(`safegrad browser example: ${s.url}  (Ctrl+C to stop)`),
    (e: unknown) => {
      const code = (e as { code?: string }).code;
      console.error(code === "EADDRINUSE" ? `port ${values.port} is in use: try npm run example:browser -- --port 0` : e);
      process.exit(1);
    },
  );
}
