#!/usr/bin/env python3
# doccheck.py -- is every setting documented in tiergate.conf(5)? And is Build-Depends BUILD_PKGS?
#
#   doccheck.py settings MAN.5 SITEFILE...   every setting of the files under its group,
#                                            and every key a parser knows, has an entry
#   doccheck.py known SRCDIR...              prints the keys the parsers know (one a line)
#   doccheck.py builddeps CONTROL DEPS.SH    Build-Depends == BUILD_PKGS (see below)
#
# In the page a group is a subsection named by its dotted path (.Ss sanitizer.pdf) and
# a setting an item (.It Cm dpi); list elements take the list's path (.Ss bridge.grants).
# Prints one line per problem; exit 1 when there is any.
import os
import re
import sys


def man_entries(path):
    """{group path: set of setting names} from the page's .Ss and .It Cm lines."""
    groups, current = {}, ""
    for line in open(path, encoding="utf-8"):
        if line.startswith(".Ss "):
            current = line[4:].strip()
            groups.setdefault(current, set())
        elif line.startswith(".It ") and "Cm " in line:
            groups.setdefault(current, set()).update(re.findall(r"\bCm\s+([A-Za-z_][\w-]*)", line))
    return groups


TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[A-Za-z_][\w-]*|[{}()\[\]=:;,]|[^\s{}()\[\]=:;,"]+')


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    out = []
    for line in text.splitlines():
        if line.lstrip().startswith("@include"):
            continue
        # a # or // outside a string starts a comment
        cut, in_str, i = len(line), False, 0
        while i < len(line):
            c = line[i]
            if c == '"' and (i == 0 or line[i - 1] != "\\"):
                in_str = not in_str
            elif not in_str and (c == "#" or line.startswith("//", i)):
                cut = i
                break
            i += 1
        out.append(line[:cut])
    return "\n".join(out)


def file_settings(path):
    """[(group path, name)] of every setting in a libconfig file."""
    toks = TOKEN.findall(strip_comments(open(path, encoding="utf-8").read()))
    found, stack, pending = [], [], None   # stack of group paths ("" = top level)
    for i, t in enumerate(toks):
        here = stack[-1] if stack else ""
        if re.match(r"[A-Za-z_]", t) and i + 1 < len(toks) and toks[i + 1] in ("=", ":"):
            found.append((here, t))
            pending = (here + "." + t).lstrip(".")
        elif t in ("{", "("):
            # a named group or list opens a path; an element of a list keeps the list's
            stack.append(pending if pending is not None else here)
            pending = None
        elif t == "[":
            stack.append(here)
            pending = None
        elif t in ("}", ")", "]"):
            if stack:
                stack.pop()
        elif t == ";":
            pending = None
    return found


def known_keys(dirs):
    """Keys of the site-file parsers' lists of known settings: every string array whose name
    says known or members (gw/verify/ reads case.conf, another format: docs/cases.md)."""
    keys = set()
    for d in dirs:
        for root, _, files in os.walk(d):
            if os.path.normpath(root).startswith(os.path.normpath("gw/verify")):
                continue
            for f in files:
                if not f.endswith(".c"):
                    continue
                src = open(os.path.join(root, f), encoding="utf-8").read()
                for m in re.finditer(r"const\s+char\s*\*\s*const\s+\w*(?:known|members)\w*\[\]\s*=\s*\{(.*?)\}",
                                     src, re.S):
                    keys.update(re.findall(r'"([^"]+)"', m.group(1)))
    return keys


def check_settings(man, files, srcdirs):
    groups, problems = man_entries(man), []
    everywhere = set().union(*groups.values()) if groups else set()
    for f in files:
        for group, name in file_settings(f):
            if group == "":
                ok = name in groups or name in groups.get("", set())
            else:
                ok = name in groups.get(group, set())
            if not ok:
                problems.append("%s: setting %s%s is not documented in %s (.Ss %s / .It Cm %s)"
                                % (f, group + "." if group else "", name, man, group or name, name))
    for key in sorted(known_keys(srcdirs)):
        if key not in everywhere and key not in groups:
            problems.append("parsers know '%s' but %s has no .It Cm %s" % (key, man, key))
    return problems


def check_builddeps(control, deps_sh):
    text = open(deps_sh, encoding="utf-8").read()
    m = re.search(r'^BUILD_PKGS="([^"]*)"', text, re.M)
    if not m:
        return ["%s: no BUILD_PKGS=\"...\"" % deps_sh]
    # build-essential is implied by Debian policy, debhelper comes as debhelper-compat
    want = set(m.group(1).split()) - {"build-essential", "debhelper"} | {"debhelper-compat"}
    ctl = open(control, encoding="utf-8").read()
    m = re.search(r"^Build-Depends:(.*?)(?=^\S|\Z)", ctl, re.M | re.S)
    if not m:
        return ["%s: no Build-Depends" % control]
    have = {re.sub(r"\s*\(.*\)", "", d).strip() for d in m.group(1).split(",") if d.strip()}
    return (["Build-Depends lacks %s (in BUILD_PKGS of %s)" % (p, deps_sh) for p in sorted(want - have)] +
            ["Build-Depends has %s, which BUILD_PKGS of %s does not" % (p, deps_sh) for p in sorted(have - want)])


def main(argv):
    if len(argv) >= 3 and argv[1] == "settings":
        problems = check_settings(argv[2], argv[3:], [d for d in ("gw", "sanitizer", "vpn-bridge", "policy", "lib")
                                                       if os.path.isdir(d)])
    elif len(argv) >= 3 and argv[1] == "known":
        print("\n".join(sorted(known_keys(argv[2:]))))
        return 0
    elif len(argv) == 4 and argv[1] == "builddeps":
        problems = check_builddeps(argv[2], argv[3])
    else:
        print(__doc__ if False else "usage: doccheck.py settings MAN FILE... | known DIR... | builddeps CONTROL DEPS.SH",
              file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
