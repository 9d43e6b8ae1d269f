#!/usr/bin/env python3
"""Embeds a text file in C as `const char NAME[]` (used by meson).

usage: embed.py INPUT OUTPUT.h NAME
"""
import sys

src, out, name = sys.argv[1:4]
with open(src, encoding="utf-8") as f:
    text = f.read()
lines = [f"/* generated from {src.split('/')[-1]} by scripts/embed.py */",
         f"static const char {name}[] ="]
for line in text.splitlines(keepends=True):
    esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    lines.append(f'\t"{esc}"')
lines[-1] += ";"
with open(out, "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
