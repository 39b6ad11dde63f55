#!/bin/sh
# fetch.sh: regenerates tests/cel/cases/*.json, the conformance cases of cel-spec
# that tests/cel/run.py runs, from the npm package @bufbuild/cel-spec (which
# ships cel-spec's conformance test files, tests/simple/testdata/*.textproto, as
# JavaScript data). Needs npm and node; the test run itself needs neither, as the
# JSON files are kept in the repository.
#
# Usage: sh tests/cel/fetch.sh [VERSION]   (default: the version in cases/VERSION)
#
# Each cases/NAME.json is one cel-spec SimpleTestFile in protobuf's JSON form:
# {"name", "description", "section": [{"name", "test": [SimpleTest...]}]}, with
# each test exactly as the package holds it ("original"); the package's derived
# fields (cel-go's AST dumps) are dropped.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
version=${1:-$(sed -n 's/^@bufbuild\/cel-spec@//p' "$here/cases/VERSION" 2>/dev/null)}
version=${version:-latest}
files="basic comparisons conversions fields fp_math integer_math lists logic macros parse plumbing string string_ext"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@bufbuild/cel-spec@$version" >/dev/null)
tar -xzf "$tmp"/bufbuild-cel-spec-*.tgz -C "$tmp"
got=$(node -p 'require(process.argv[1]).version' "$tmp/package/package.json")
spec=$(sed -n 's/.*upstreamCelSpecRef -->\([^<]*\)<.*/\1/p' "$tmp/package/README.md" | head -1)

node - "$tmp/package/dist/cjs/testdata/conformance.js" "$here/cases" $files <<'JS'
const fs = require("fs");
const [src, out, ...names] = process.argv.slice(2);
const all = require(src).tests.suites;
for (const name of names) {
  const file = all.find((s) => s.name === name);
  if (!file) throw new Error("no suite " + name + " in " + src);
  const doc = { name: file.name, section: [] };
  for (const sec of file.suites || []) {
    if ((sec.suites || []).length) throw new Error("nested suite in " + name + "/" + sec.name);
    doc.section.push({ name: sec.name, test: (sec.tests || []).map((t) => t.original) });
  }
  if ((file.tests || []).length) doc.section.unshift({ name: "", test: file.tests.map((t) => t.original) });
  // One test a line: small files that still diff well.
  const lines = ["{", `"name": ${JSON.stringify(doc.name)},`, `"section": [`];
  doc.section.forEach((s, i) => {
    lines.push(`{"name": ${JSON.stringify(s.name)}, "test": [`);
    s.test.forEach((t, j) => lines.push(JSON.stringify(t) + (j + 1 < s.test.length ? "," : "")));
    lines.push("]}" + (i + 1 < doc.section.length ? "," : ""));
  });
  lines.push("]", "}");
  fs.writeFileSync(`${out}/${name}.json`, lines.join("\n") + "\n");
}
JS
printf '@bufbuild/cel-spec@%s\ncel-spec %s\n' "$got" "$spec" >"$here/cases/VERSION"
echo "tests/cel/cases: @bufbuild/cel-spec@$got (cel-spec $spec): $files"
