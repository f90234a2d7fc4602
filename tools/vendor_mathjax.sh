#!/usr/bin/env bash
# Re-vendor the math renderer of the docs site (run by hand, never by a build): MathJax's
# single-file TeX-to-SVG component from the npm package, so the site renders maths offline.
# SVG output embeds its glyphs, so no font files are needed next to it.
set -euo pipefail
version="${1:-3.2.2}"
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
(cd "$tmp" && npm pack --silent "mathjax@$version" >/dev/null && tar xzf "mathjax-$version.tgz")
dest="docs/javascripts/vendor/mathjax-$version"
mkdir -p "$dest"
cp "$tmp/package/es5/tex-svg.js" "$tmp/package/LICENSE" "$dest/"
sha256sum "$dest/tex-svg.js"
