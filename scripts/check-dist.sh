#!/usr/bin/env bash
# Fails when the committed dist/ differs from a fresh build of src/.
set -euo pipefail
cd "$(dirname "$0")/.."
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
npx ncc build src/index.ts -o "$fresh" --license licenses.txt --target es2022 --minify >/dev/null
npx ncc build src/offboard/index.ts -o "$fresh/offboard" --license licenses.txt --target es2022 --minify >/dev/null
if ! diff -r -q dist "$fresh" >/dev/null; then
  echo "dist/ is out of date with src/: run 'npm run package' and commit dist/." >&2
  diff -r -q dist "$fresh" >&2 || true
  exit 1
fi
echo "dist/ matches a fresh build"
