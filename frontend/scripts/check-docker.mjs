// Checks what can be checked of the Docker files without Docker (no registry is
// reachable from the test machines): docker-compose.yml parses, has the server and
// MySQL with named volumes, and names only the configuration variables of
// .env.example (SPEC §7); every path the Dockerfile copies from the build context
// exists and is not excluded by .dockerignore; the image runs as a non-root user,
// exposes 8000 and has a HEALTHCHECK on /healthz.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const problems = [];
const fail = (m) => problems.push(m);

// The configuration variables: the keys of .env.example.
const allowed = new Set(
  readFileSync(join(repo, ".env.example"), "utf8")
    .split("\n")
    .map((l) => /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(l)?.[1])
    .filter(Boolean),
);

// docker-compose.yml
const composeText = readFileSync(join(repo, "docker-compose.yml"), "utf8");
let compose;
try {
  compose = parse(composeText);
} catch (e) {
  fail(`docker-compose.yml does not parse: ${e.message}`);
}
if (compose) {
  const services = compose.services ?? {};
  const server = services.oncall;
  if (!server) fail("docker-compose.yml: no `oncall` service");
  const mysql = Object.values(services).find((s) => /^mysql:8/.test(s.image ?? ""));
  if (!mysql) fail("docker-compose.yml: no MySQL 8 service");
  for (const m of composeText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) {
    if (!allowed.has(m[1])) fail(`docker-compose.yml interpolates \${${m[1]}}, not a variable of .env.example (SPEC §7)`);
  }
  if (server) {
    const env = server.environment ?? {};
    const keys = Array.isArray(env) ? env.map((e) => e.split("=")[0]) : Object.keys(env);
    for (const k of keys) if (!allowed.has(k)) fail(`docker-compose.yml: oncall sets ${k}, not a variable of .env.example`);
    for (const k of ["DATABASE_URL", "JWT_SECRET_KEY", "ONCALL_ENCRYPTION_KEY", "OPENAI_API_KEY", "OPENAI_MODEL", "OPENAI_BASE_URL", "LLM_PROVIDER"])
      if (!keys.includes(k)) fail(`docker-compose.yml: oncall does not set ${k}`);
    if (!String(env.DATABASE_URL ?? "").startsWith("mysql://")) fail("docker-compose.yml: DATABASE_URL is not the MySQL service");
    if (!(server.ports ?? []).some((p) => String(p).endsWith(":8000"))) fail("docker-compose.yml: port 8000 not published");
    if (server.build === undefined) fail("docker-compose.yml: oncall is not built from the Dockerfile");
  }
  const named = Object.keys(compose.volumes ?? {});
  for (const [name, s] of Object.entries(services)) {
    for (const v of s.volumes ?? []) {
      const src = String(typeof v === "string" ? v.split(":")[0] : v.source);
      if (!named.includes(src)) fail(`docker-compose.yml: ${name} mounts ${src}, not a named volume`);
    }
  }
}

// Dockerfile
const dockerfile = readFileSync(join(repo, "Dockerfile"), "utf8").replace(/\\\n/g, " ");
const ignore = existsSync(join(repo, ".dockerignore"))
  ? readFileSync(join(repo, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim().replace(/\/$/, ""))
      .filter((l) => l && !l.startsWith("#"))
  : [];
let copies = 0;
for (const line of dockerfile.split("\n")) {
  const m = /^\s*COPY\s+(.*)$/i.exec(line);
  if (!m) continue;
  const parts = m[1].trim().split(/\s+/);
  if (parts.some((p) => p.startsWith("--from"))) continue;
  const srcs = parts.filter((p) => !p.startsWith("--")).slice(0, -1);
  for (const s of srcs) {
    copies++;
    const path = s.replace(/\/$/, "");
    if (!existsSync(join(repo, path))) fail(`Dockerfile copies ${s}, which does not exist`);
    if (ignore.includes(path)) fail(`Dockerfile copies ${s}, which .dockerignore excludes`);
  }
}
if (!copies) fail("Dockerfile copies nothing from the build context");
if (!/^\s*USER\s+(?!root\b|0\b)\S+/m.test(dockerfile)) fail("Dockerfile: the image does not run as a non-root USER");
if (!/^\s*HEALTHCHECK\b.*\/healthz/m.test(dockerfile)) fail("Dockerfile: no HEALTHCHECK on /healthz");
if (!/^\s*EXPOSE\s+8000\b/m.test(dockerfile)) fail("Dockerfile: port 8000 not exposed");
if (!/^\s*VOLUME\b/m.test(dockerfile)) fail("Dockerfile: no VOLUME for the data");

if (problems.length) {
  for (const p of problems) console.error(`check-docker: ${p}`);
  process.exit(1);
}
console.log(`check-docker: docker-compose.yml and Dockerfile OK (${copies} copied paths exist; variables ⊆ .env.example)`);
