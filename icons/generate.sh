#!/usr/bin/env bash
# Regenerates every app icon (RGBA PNG) from one source image, icons/source.png.
# Needs ImageMagick (`apt-get install imagemagick`). Run: bash icons/generate.sh
set -euo pipefail
cd "$(dirname "$0")"
src=source.png
if [ ! -f "$src" ]; then
  # No source image yet: draw the default mark (a blue rounded tile with a loop).
  convert -size 1024x1024 xc:none -fill '#1a4d8f' -draw 'roundrectangle 64,64 960,960 180,180' \
    -fill none -stroke white -strokewidth 72 -draw 'arc 272,272 752,752 40,320' \
    -fill white -stroke none -draw 'polygon 700,330 860,330 780,470' PNG32:"$src"
fi
for size in 32 128 256 512; do
  convert "$src" -resize ${size}x${size} PNG32:"${size}x${size}.png"
done
convert "$src" -resize 256x256 PNG32:"128x128@2x.png"
convert "$src" -resize 512x512 PNG32:icon.png
convert "$src" -resize 32x32 PNG32:tray.png
convert "$src" -resize 32x32 -fill '#d9822b' -draw 'circle 25,7 25,1' PNG32:tray-attention.png
echo "icons written to $(pwd)"
