#!/usr/bin/env bash
# Validates docker-compose.yml (or the file given as $1) without a Docker engine:
#  1. against the official Compose Specification JSON schema, with check-jsonschema (PyPI) and its
#     built-in `vendor.compose-spec` schema, vendored in the package (no network at check time);
#  2. with checks a schema cannot make: every depends_on target and named volume exists, every
#     ${...} interpolation is well formed, no service with replicas > 1 publishes a fixed host port,
#     and every FINGERTIP_* variable it sets or interpolates is one that the settings (core/src/settings/mod.rs, src/settings.rs) read
#     (or a FINGERTIP_TEST_* variable of the test suite);
#  3. with `docker compose config -q` as well, when the Compose plugin is installed.
# Exits non-zero on the first failing step.
#
# The validator is installed on first use into a virtualenv, by default target/check-compose-venv
# (override with CHECK_COMPOSE_VENV=DIR); it needs python3 with the venv module and PyPI.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
file="${1:-$repo/docker-compose.yml}"
settings_rs=("$repo/core/src/settings/mod.rs" "$repo/src/settings.rs")
venv="${CHECK_COMPOSE_VENV:-$repo/target/check-compose-venv}"
cjs_version="0.39.0"

[ -f "$file" ] || { echo "check-compose: no such file: $file" >&2; exit 2; }
for f in "${settings_rs[@]}"; do
  [ -f "$f" ] || { echo "check-compose: cannot find $f" >&2; exit 2; }
done

if ! "$venv/bin/check-jsonschema" --version 2>/dev/null | grep -qF "$cjs_version"; then
  echo "check-compose: installing check-jsonschema $cjs_version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "check-jsonschema==$cjs_version"
fi

echo "== schema: compose-spec ($file)"
"$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$file"

echo "== references, interpolation and FINGERTIP_* names"
"$venv/bin/python" - "$file" "${settings_rs[@]}" <<'PY'
import re
import sys

from ruamel.yaml import YAML

path, settings_rs = sys.argv[1], sys.argv[2:]
doc = YAML(typ="safe", pure=True).load(open(path, encoding="utf-8"))
reads = re.compile(r'(?:get|number|secret|flag|socket|base_url)\(\s*"(FINGERTIP_[A-Z0-9_]+)"')
known = set()
for f in settings_rs:
    known |= set(reads.findall(open(f, encoding="utf-8").read()))
if not known:
    sys.exit(f"check-compose: found no FINGERTIP_... variable read in {settings_rs}")
errors = []
seen = set()

def known_name(name):
    return name in known or name.startswith("FINGERTIP_TEST_")

# Interpolation: $$ is a literal $, otherwise $NAME or ${NAME}, ${NAME:-x}, ${NAME-x}, ${NAME:?x},
# ${NAME?x}, ${NAME:+x}, ${NAME+x}. Collect the names to check them too.
TOKEN = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(?::?[-?+])[^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")

def walk(node, where):
    if isinstance(node, dict):
        for k, v in node.items():
            walk(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, f"{where}[{i}]")
    elif isinstance(node, str):
        rest = TOKEN.sub("", node)
        if "$" in rest:
            errors.append(f"{where}: malformed interpolation in {node!r} (write $$ for a literal $)")
        for m in TOKEN.finditer(node):
            name = m.group(1) or m.group(2)
            if name and name.startswith("FINGERTIP_") and not known_name(name) and name not in seen:
                seen.add(name)
                errors.append(f"{where}: ${{{name}}} is not read by the settings")

if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict) or not doc["services"]:
    sys.exit("check-compose: no services")
services = doc["services"]
volumes = doc.get("volumes") or {}
walk({k: v for k, v in doc.items() if not str(k).startswith("x-")}, "$")

for name, svc in services.items():
    where = f"services.{name}"
    deps = svc.get("depends_on") or []
    for dep in deps:
        if dep not in services:
            errors.append(f"{where}.depends_on: no service named {dep!r}")
        elif dep == name:
            errors.append(f"{where}.depends_on: a service cannot depend on itself")
    env = svc.get("environment") or {}
    names = list(env) if isinstance(env, dict) else [str(e).split("=", 1)[0] for e in env]
    for var in names:
        if var.startswith("FINGERTIP_") and not known_name(var):
            errors.append(f"{where}.environment: {var} is not read by the settings")
    for vol in svc.get("volumes") or []:
        src = vol.get("source") if isinstance(vol, dict) else (str(vol).split(":")[0] if ":" in str(vol) else None)
        if src and not src.startswith((".", "/", "~", "$")) and src not in volumes:
            errors.append(f"{where}.volumes: named volume {src!r} is not declared under top-level volumes")
    replicas = ((svc.get("deploy") or {}).get("replicas"))
    if isinstance(replicas, int) and replicas > 1:
        for port in svc.get("ports") or []:
            published = port.get("published") if isinstance(port, dict) else (str(port).rsplit(":", 1)[0] if ":" in str(port) else None)
            if published and "-" not in str(published):
                errors.append(f"{where}: replicas={replicas} cannot share the fixed host port {published}")

for e in errors:
    print(f"  {path}: {e}", file=sys.stderr)
if errors:
    sys.exit(1)
print(f"ok -- {len(services)} services; FINGERTIP_* names checked against {len(known)} read by the settings")
PY

if docker compose version >/dev/null 2>&1; then
  echo "== docker compose config -q"
  # The file requires FINGERTIP_JWT_SECRET; a placeholder lets the check run without a .env.
  FINGERTIP_JWT_SECRET="${FINGERTIP_JWT_SECRET:-check-compose-placeholder-secret}" \
    docker compose -f "$file" --profile demo config -q
else
  echo "== docker compose: plugin not installed, skipped"
fi
echo "check-compose: $file is valid"
