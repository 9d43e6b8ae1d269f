#!/usr/bin/env python3
"""Turns templates/<set>/{en,da,sv}.strings into C (used by meson).

usage: strings.py OUTPUT.h EN DA SV [NAME LETTER]

Every key must be in all three languages, once, with a non-empty text: a
missing or extra translation fails the build (issue 15 point 1). The
output is a header with enum NAME_key (LETTER_<key>), the table
NAME_table[lang][key], languages in the order en, da, sv, and the key
names NAME_key_names[key]; NAME and LETTER are "render" and "R" by
default (the notice, templates/notice), the incident messages use
"incident" and "I" (templates/incident), the portal "portal" and "P"
(templates/portal).
"""
import os
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
    name = sys.argv[5] if len(sys.argv) > 5 else "render"
    letter = sys.argv[6] if len(sys.argv) > 6 else "R"
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
    where = os.path.basename(os.path.dirname(os.path.abspath(paths[0])))
    lines = [f"/* generated from templates/{where}/{{en,da,sv}}.strings by "
             "scripts/strings.py */",
             f"enum {name}_key {{"]
    lines += [f"\t{letter}_{k}," for k in order]
    lines += [f"\t{letter}__COUNT", "};", "",
              # unused: a header read by several files (the portal's),
              # of which one reads the table
              f"static const char *const {name}_table[3][{letter}__COUNT]"
              " __attribute__((unused)) = {"]
    for t in tables:
        lines.append("\t{")
        lines += [f"\t\t{c_string(t[k])}," for k in order]
        lines.append("\t},")
    lines.append("};")
    # The keys by name, for words looked up by a policy's own names (the
    # events, ev_<name>).
    lines += ["", f"static const char *const {name}_key_names[{letter}__COUNT]"
              " __attribute__((unused)) = {"]
    lines += [f"\t{c_string(k)}," for k in order]
    lines.append("};")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


main()
