#!/bin/sh
# Regenerates docs/gallery.md and docs/gallery/*.svg: one timeline of every
# scenario in scenarios/, drawn by `threadsim export`. Run through
# `make gallery`; never edit the images by hand.
set -eu

threadsim=${1:-build/cli/threadsim}
out=docs/gallery
mkdir -p "$out"
rm -f "$out"/*.svg

{
    echo "# Gallery"
    echo
    echo "One timeline of every scenario in \`scenarios/\`, drawn by"
    echo "\`threadsim export\` (made by \`make gallery\`; never edited by hand)."
    echo "Each image has the scenario's name, its policy and CPUs, the legend and"
    echo "the time axis."
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
            "$threadsim" export "$scenario" -o "$image" --width 1200 >/dev/null 2>&1 || status=$?
            if [ "$status" -ne 0 ] && [ "$status" -ne 3 ] && [ "$status" -ne 4 ]; then
                echo "gallery: $scenario: export failed (exit $status)" >&2
                exit 1
            fi
            echo
            echo "### \`$scenario\`"
            echo
            echo "![${group} ${name}](gallery/${group}_$name.svg)"
        done
    done
} > docs/gallery.md
echo "gallery: $(ls "$out"/*.svg | wc -l) images in $out, index in docs/gallery.md"
