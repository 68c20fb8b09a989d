// Fails when src/api/schema.d.ts is not what openapi-typescript generates from the
// committed OpenAPI document (../oncall-server/openapi.json). Fix with `npm run gen:api`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const spec = resolve(root, "../oncall-server/openapi.json");
const committed = join(root, "src/api/schema.d.ts");
const dir = mkdtempSync(join(tmpdir(), "oncall-api-"));
const fresh = join(dir, "schema.d.ts");
try {
  const bin = join(root, "node_modules/.bin/openapi-typescript");
  execFileSync(bin, [spec, "-o", fresh], { stdio: ["ignore", "ignore", "inherit"] });
  const a = readFileSync(committed, "utf8");
  const b = readFileSync(fresh, "utf8");
  if (a !== b) {
    const al = a.split("\n");
    const bl = b.split("\n");
    const i = al.findIndex((l, n) => l !== bl[n]);
    console.error(
      `check:api: src/api/schema.d.ts is out of date with oncall-server/openapi.json ` +
        `(first difference at line ${i + 1}). Run \`npm run gen:api\` and commit the result.`,
    );
    console.error(`  committed: ${JSON.stringify(al[i])}\n  generated: ${JSON.stringify(bl[i])}`);
    process.exit(1);
  }
  console.log("check:api: src/api/schema.d.ts matches oncall-server/openapi.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
