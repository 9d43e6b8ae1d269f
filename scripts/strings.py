#!/usr/bin/env python3
"""Turns templates/notice/{da,sv,en}.strings into C (used by meson).

usage: strings.py OUTPUT.h EN DA SV [PREFIX ENUM TABLE]

PREFIX, ENUM and TABLE name the output's key prefix, enum and table
(default R, render_key, render_table: the notice's; the portal's are P,
portal_key, portal_table).

Every key must be in all three languages, once, with a non-empty text: a
missing or extra translation fails the build (issue 15 point 1). The
output is a header with enum render_key (R_<key>), the table
render_table[lang][key], languages in the order en, da, sv, and the key
names render_key_names[key].
"""
import re
import sys

KEY = re.compile(r"^([a-z][a-z0-9_]*) = (.+)$")


def load(path):
    keys, errors = {}, []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line == "" or line.startswith("#"):
                continue
            m = KEY.match(line)
            if m is None:
                errors.append(f"{path}:{n}: not 'key = text'")
            elif m.group(1) in keys:
                errors.append(f"{path}:{n}: key '{m.group(1)}' twice")
            else:
                keys[m.group(1)] = m.group(2)
    return keys, errors


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    out, paths = sys.argv[1], sys.argv[2:5]
    prefix, enum, table = (sys.argv[5:8] if len(sys.argv) >= 8
                           else ("R", "render_key", "render_table"))
    tables, errors = [], []
    for p in paths:
        keys, errs = load(p)
        tables.append(keys)
        errors += errs
    order = list(tables[0])
    for p, t in zip(paths[1:], tables[1:]):
        for k in order:
            if k not in t:
                errors.append(f"{p}: missing translation of '{k}'")
        for k in t:
            if k not in tables[0]:
                errors.append(f"{p}: key '{k}' is not in {paths[0]}")
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        sys.exit(1)
    lines = [f"/* generated from {paths[0]} and its translations by "
             "scripts/strings.py */",
             f"enum {enum} {{"]
    lines += [f"\t{prefix}_{k}," for k in order]
    lines += [f"\t{prefix}__COUNT", "};", ""]
    guard = len(sys.argv) >= 8
    if guard:
        # Only the file that defines the guard holds the table.
        lines.append(f"#ifdef {table.upper()}_DEFINE")
    lines += [f"static const char *const {table}[3][{prefix}__COUNT] = {{"]
    for t in tables:
        lines.append("\t{")
        lines += [f"\t\t{c_string(t[k])}," for k in order]
        lines.append("\t},")
    lines.append("};")
    if guard:
        lines.append("#endif")
    else:
        # The keys by name, for words looked up by a policy's own names
        # (the events, ev_<name>): the notice's only.
        lines += ["", f"static const char *const {enum}_names"
                  f"[{prefix}__COUNT] = {{"]
        lines += [f"\t{c_string(k)}," for k in order]
        lines.append("};")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


main()
