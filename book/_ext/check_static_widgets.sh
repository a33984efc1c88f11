#!/usr/bin/env bash
# Check, offline, that a built page shows its static widgets AND typeset math.
#
#   book/_ext/check_static_widgets.sh _build/html book/01_introduction.html [out.png]
#
# The built pages load MathJax 3, require.js and @jupyter-widgets/html-manager
# from CDNs (see _config.yml).  Without network access those scripts cannot
# load, so this script fetches the same versions from the npm registry
# (`npm pack`), copies the built HTML to a scratch directory, points the three
# script tags at the local copies, and renders the page with headless
# Chromium.  It prints the console messages, the number of rendered widget
# views and typeset formulas, and writes a screenshot.
#
# Needs: npm (registry access), chromium.
set -euo pipefail

html_dir=${1:?built html directory, e.g. _build/html}
page=${2:?page inside it, e.g. book/01_introduction.html}
png=${3:-/tmp/static_widgets.png}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

vendor="$scratch/vendor"
mkdir -p "$vendor"
(
  cd "$vendor"
  npm pack --silent @jupyter-widgets/html-manager@1.0.15 requirejs@2.3.7 mathjax@3.2.2 >/dev/null
  for archive in *.tgz; do
    mkdir "${archive%.tgz}" && tar xzf "$archive" -C "${archive%.tgz}"
  done
)
site="$scratch/site"
cp -r "$html_dir" "$site"
local_js="$site/_local"
mkdir -p "$local_js"
cp "$vendor"/jupyter-widgets-html-manager-1.0.15/package/dist/embed-amd.js "$local_js/"
cp "$vendor"/requirejs-2.3.7/package/require.js "$local_js/"
cp -r "$vendor"/mathjax-3.2.2/package/es5 "$local_js/mathjax"

find "$site" -name "*.html" -exec sed -i \
  -e "s#https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js#file://$local_js/mathjax/tex-mml-chtml.js#" \
  -e "s#https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.4/require.min.js#file://$local_js/require.js#" \
  -e 's#integrity="sha256-[^"]*"##' \
  -e "s#https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@1.0.15/dist/embed-amd.js#file://$local_js/embed-amd.js#" \
  {} \;

chrome=(chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
        --disable-component-update --disable-sync --allow-file-access-from-files --virtual-time-budget=15000)
"${chrome[@]}" --enable-logging=stderr --v=0 --dump-dom "file://$site/$page" \
  >"$scratch/dom.html" 2>"$scratch/console.txt" || true
"${chrome[@]}" --window-size=1200,6000 --screenshot="$png" "file://$site/$page" 2>/dev/null || true

echo "console messages:"
grep -o '"[^"]*", source: [^ ]*' "$scratch/console.txt" | sed 's#file://[^ ]*/##' || true
echo "widget views rendered: $(grep -o 'class="[^"]*widget-\(hslider\|dropdown\|output\|vbox\)' "$scratch/dom.html" | wc -l)"
echo "formulas typeset by MathJax: $(grep -o '<mjx-container' "$scratch/dom.html" | wc -l)"
echo "screenshot: $png"
