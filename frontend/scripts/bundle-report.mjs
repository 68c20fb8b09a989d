// Prints the gzip size of what the first page load fetches: index.html's entry
// script, the chunks it imports statically (modulepreload) and its CSS. Lazy
// pages and the chart library are not part of it.
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

const dist = resolve(process.argv[2] ?? "dist");
const html = readFileSync(join(dist, "index.html"), "utf8");
const refs = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
let raw = 0;
let gz = 0;
for (const f of refs) {
  const buf = readFileSync(join(dist, f));
  const z = gzipSync(buf, { level: 9 }).length;
  raw += buf.length;
  gz += z;
  console.log(`  ${f.padEnd(44)} ${kb(buf.length).padStart(10)}  gzip ${kb(z).padStart(9)}`);
}
console.log(`first load: ${refs.length} files, ${kb(raw)}, gzip ${kb(gz)}`);
const all = readdirSync(join(dist, "assets")).filter((f) => f.endsWith(".js"));
const total = all.reduce((s, f) => s + gzipSync(readFileSync(join(dist, "assets", f)), { level: 9 }).length, 0);
console.log(`all ${all.length} scripts: gzip ${kb(total)}`);
