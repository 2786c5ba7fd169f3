#!/bin/sh
# Regenerates docs/gallery.md and docs/gallery/*.svg: one timeline of every
# scenario in scenarios/, drawn by `threadsim export`. Run through
# `make gallery`; never edit the images by hand. Run from the source
# directory; a second argument writes DIR/gallery.md and DIR/gallery/
# instead of docs/ (the test that the committed gallery is current).
set -eu

threadsim=${1:-build/cli/threadsim}
docs=${2:-docs}
out=$docs/gallery
# An image bigger than this (bytes), a run of very many segments, is drawn
# again over the run's first 30 ms, 3 ms or 300 us, the first that makes it
# small enough: the whole run would show mostly colour bands, and the
# gallery must stay small.
big=120000
# A scenario may name the window that shows its point instead, with the
# ignored key "x-gallery-window": {"from": "20ms", "to": "20.04ms"}.
window_of() {
    python3 -c 'import json, sys
w = json.load(open(sys.argv[1])).get("x-gallery-window")
print("%s %s" % (w["from"], w["to"]) if w else "")' "$1"
}
mkdir -p "$out"
rm -f "$out"/*.svg

{
    echo "# Gallery"
    echo
    echo "One timeline of every scenario in \`scenarios/\`, drawn by"
    echo "\`threadsim export\` (made by \`make gallery\`; never edited by hand)."
    echo "Each image has the scenario's name, its policy and CPUs, its description,"
    echo "the legend and the time axis; the lanes of who holds each GIL and lock"
    echo "and the message and hand-over arrows are under and over the thread lanes."
    echo "The few runs too busy to draw whole show their first milliseconds."
    for dir in scenarios/*/; do
        group=$(basename "$dir")
        echo
        echo "## $group"
        for scenario in "$dir"*.json; do
            name=$(basename "$scenario" .json)
            image="$out/${group}_$name.svg"
            # a scenario that deadlocks (exit 3) or stops with a run-time
            # error (exit 4) is still drawn up to where it stopped
            status=0
            window=""
            set -- $(window_of "$scenario")
            if [ $# -eq 2 ]; then
                "$threadsim" export "$scenario" -o "$image" --width 1200 --from "$1" --to "$2" \
                    >/dev/null 2>&1 || status=$?
                window=" (from $(echo "$1" | sed 's/[a-z]*$/ &/') to $(echo "$2" | sed 's/[a-z]*$/ &/'))"
            else
                "$threadsim" export "$scenario" -o "$image" --width 1200 >/dev/null 2>&1 || status=$?
            fi
            for to in 30ms 3ms 300us; do
                [ $# -ne 2 ] || break
                [ "$(wc -c < "$image")" -gt "$big" ] || break
                status=0
                "$threadsim" export "$scenario" -o "$image" --width 1200 --to "$to" \
                    >/dev/null 2>&1 || status=$?
                window=" (its first $(echo "$to" | sed 's/[a-z]*$/ &/'))"
            done
            if [ "$status" -ne 0 ] && [ "$status" -ne 3 ] && [ "$status" -ne 4 ]; then
                echo "gallery: $scenario: export failed (exit $status)" >&2
                exit 1
            fi
            echo
            echo "### \`$scenario\`$window"
            echo
            echo "![${group} ${name}](gallery/${group}_$name.svg)"
        done
    done
} > "$docs/gallery.md"
echo "gallery: $(ls "$out"/*.svg | wc -l) images in $out, index in $docs/gallery.md"
