#!/usr/bin/env bash
# The book: install the pinned mdBook and mdbook-mermaid when they are missing,
# build book/, and check the HTML it produced:
#   - the committed mermaid.min.js is the one the pinned mdbook-mermaid ships;
#   - the build printed no warning or error (a failed {{#include}} is only a warning);
#   - every ```mermaid block of every page is in that page's HTML, and every page
#     with a diagram loads the bundled mermaid.min.js;
#   - no page loads anything from another host (scripts, styles, images, fonts);
#   - with a Chromium on PATH: every diagram is drawn as an SVG without a syntax error.
# The structure checks (SUMMARY.md, includes, links, lessons.toml) are Rust tests:
# `cargo test -p lab-tests --test book`.
set -euo pipefail
cd "$(dirname "$0")/.."

MDBOOK_VERSION=0.5.4
MERMAID_VERSION=0.17.1

step() { printf '\n== %s\n' "$*"; }
fail() {
    printf 'book: %s\n' "$*" >&2
    exit 1
}

# True when $1 is on PATH and `$1 --version` ends in exactly version $2.
has_version() {
    command -v "$1" >/dev/null 2>&1 &&
        "$1" --version 2>/dev/null | grep -Eq "(^|[ v])${2//./\\.}\$"
}

step "tools: mdbook $MDBOOK_VERSION, mdbook-mermaid $MERMAID_VERSION"
if ! has_version mdbook "$MDBOOK_VERSION"; then
    # Only what `mdbook build` needs: no `serve`/`watch` (their web server and file
    # watcher double the compile time). For `mdbook serve`, see book/README.md.
    cargo install --locked --version "$MDBOOK_VERSION" mdbook \
        --no-default-features --features search
fi
if ! has_version mdbook-mermaid "$MERMAID_VERSION"; then
    cargo install --locked --version "$MERMAID_VERSION" mdbook-mermaid
fi
for tool in "mdbook $MDBOOK_VERSION" "mdbook-mermaid $MERMAID_VERSION"; do
    # shellcheck disable=SC2086
    has_version $tool ||
        fail "${tool% *} ${tool#* } is installed but not on PATH: add \$(cargo's home)/bin, usually ~/.cargo/bin, to PATH"
done
mdbook --version
mdbook-mermaid --version

step "bundled mermaid.js is the pinned preprocessor's"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
printf '[book]\ntitle = "scratch"\n' >"$scratch/book.toml"
mdbook-mermaid install "$scratch" 2>"$scratch/install.log" ||
    fail "mdbook-mermaid install failed: $(cat "$scratch/install.log")"
for asset in mermaid.min.js mermaid-init.js; do
    cmp -s "$scratch/$asset" "book/$asset" ||
        fail "book/$asset differs from the one mdbook-mermaid $MERMAID_VERSION ships: run \`mdbook-mermaid install book\` after deleting it (or pin the version it came from)"
done
echo "book/mermaid.min.js and book/mermaid-init.js match"

step "build"
rm -rf book/book
# mdbook-mermaid is built against mdbook-preprocessor 0.5.0 and says so on every
# run; that notice is expected (same 0.5 protocol) and the only one let through.
if ! mdbook build book 2>"$scratch/build.log"; then
    cat "$scratch/build.log" >&2
    fail "mdbook build failed"
fi
cat "$scratch/build.log"
problems=$(grep -E 'WARN|ERROR|[Ww]arning|[Ee]rror' "$scratch/build.log" |
    grep -v 'mdbook-mermaid preprocessor was built against version' || true)
[ -z "$problems" ] || fail "mdbook build reported problems (a missing {{#include}} is only a warning to mdbook):
$problems"

html=book/book
step "diagrams in the HTML"
pages=0
diagrams=0
while IFS= read -r md; do
    rel=${md#book/src/}
    page="$html/${rel%.md}.html"
    [ -f "$page" ] || fail "$rel is in the book but $page was not written"
    want=$(grep -cE '^[[:space:]]*(```|~~~)mermaid[[:space:]]*$' "$md" || true)
    got=$({ grep -o '<pre class="mermaid">' "$page" || true; } | wc -l)
    [ "$got" -eq "$want" ] ||
        fail "$rel has $want mermaid diagram(s) but ${page#"$html"/} has $got <pre class=\"mermaid\">: is the mermaid preprocessor configured in book.toml?"
    if [ "$want" -gt 0 ]; then
        script=$(grep -oE '<script src="[^"]*mermaid[^"]*\.min\.js"' "$page" | head -n1 | sed -E 's/.*src="([^"]*)"/\1/')
        [ -n "$script" ] || fail "${page#"$html"/} has diagrams but loads no mermaid.min.js"
        [ -f "$(dirname "$page")/$script" ] || fail "${page#"$html"/} loads $script, which is not in the built book"
        pages=$((pages + 1))
        diagrams=$((diagrams + want))
    fi
done < <(find book/src -name '*.md' ! -name SUMMARY.md | sort)
[ "$diagrams" -gt 0 ] || fail "the book has no diagrams at all"
for needed in introduction lesson01/index lesson02/index lesson03/index lesson04/index lesson05/index; do
    grep -q '<pre class="mermaid">' "$html/$needed.html" ||
        fail "$needed.md has no sequence diagram: each of these chapters shows its protocol step as one"
done
echo "$diagrams diagrams on $pages pages, each page loading the bundled mermaid.min.js"

step "nothing loads from another host"
# Links to RFCs are fine (<a href>); what a page *loads* must come from the book.
remote=$(grep -rnoiE '<(script|img|iframe|audio|video|source|embed|object)[^>]*[[:space:]](src|data|srcset)="?(https?:)?//[^" >]*|<link[^>]*href="?(https?:)?//[^" >]*' \
    --include='*.html' "$html" || true)
remote_css=$(grep -rnoiE '@import[^;]*|url\(["'"'"']?(https?:)?//[^)]*' --include='*.css' "$html" || true)
[ -z "$remote$remote_css" ] || fail "these load from another host (the book must work offline):
$remote$remote_css"
echo "no page loads anything from another host"

step "diagrams draw (headless Chromium)"
browser=""
for candidate in chromium chromium-browser google-chrome; do
    if command -v "$candidate" >/dev/null 2>&1; then
        browser=$candidate
        break
    fi
done
if [ -z "$browser" ]; then
    if [ "${BOOK_REQUIRE_BROWSER:-0}" = 1 ]; then
        fail "no Chromium on PATH (BOOK_REQUIRE_BROWSER=1): apt-get install chromium"
    fi
    echo "skipped: no Chromium on PATH (apt-get install chromium to draw every diagram here)"
else
    while IFS= read -r page; do
        want=$({ grep -o '<pre class="mermaid">' "$page" || true; } | wc -l)
        dom=$("$browser" --headless --no-sandbox --disable-gpu --no-first-run \
            --user-data-dir="$scratch/profile" --virtual-time-budget=10000 \
            --dump-dom "file://$PWD/$page" 2>/dev/null)
        drawn=$({ grep -o 'aria-roledescription="sequence"' <<<"$dom" || true; } | wc -l)
        if grep -q 'Syntax error in text' <<<"$dom"; then
            fail "${page#"$html"/}: mermaid could not parse a diagram (open it in a browser to see which)"
        fi
        [ "$drawn" -eq "$want" ] ||
            fail "${page#"$html"/}: $want diagram(s), but $drawn drawn as sequence diagrams"
        echo "${page#"$html"/}: $drawn drawn"
    done < <(grep -rl '<pre class="mermaid">' --include='*.html' "$html" | grep -v '/print.html$' | sort)
fi

step "book OK: $html/index.html"
