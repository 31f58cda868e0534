#!/usr/bin/env python3
"""Import cycles between the files of a crate, by where each used item is *defined*.

    python3 scripts/import-cycles.py core/src api/src ...

An edge A -> B means code in file A uses an item (type, fn, trait, const, macro) defined in file
B, named through `use` (crate::, super::, self:: or a child module) or an inline
`crate::path::item`. A re-export (`pub use`) is a facade, not a use: a name imported through one
is followed to the file that defines it, and the re-export adds no edge of its own. Code after
`#[cfg(test)]` and files named tests.rs are left out. Prints every cycle with its edges and
exits 1 when any crate has one. Run by .ci/run over every crate of the workspace.

A reading of the source, not of the compiler's name resolution: a glob import (`use x::*`) and
a name defined twice in one subtree resolve to the module or the shallowest definition.
"""
import os
import re
import sys

ITEM = re.compile(
    r'^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:unsafe\s+)?(?:const\s+)?'
    r'(?:fn|struct|enum|trait|type|const|static|union)\s+([A-Za-z_][A-Za-z0-9_]*)', re.M)
MACRO = re.compile(r'macro_rules!\s*([A-Za-z_][A-Za-z0-9_]*)')
WORDS = re.compile(r'crate::words!\s*\{[^}]*?\b(?:enum|struct)\s+([A-Za-z_][A-Za-z0-9_]*)', re.S)


def strip(src):
    src = re.sub(r'//[^\n]*', '', src)
    i = src.find('#[cfg(test)]')
    return src if i < 0 else src[:i]


def expand(prefix, s):
    """`a::{b, c::{d}}` -> [[..prefix, a, b], [..prefix, a, c, d]]."""
    s = s.strip()
    if s.startswith('::'):
        s = s[2:]
    if '{' in s:
        i = s.index('{')
        pre = [x for x in s[:i].strip(':').split('::') if x]
        inner = s[i + 1:s.rindex('}')]
        depth, cur, items = 0, '', []
        for ch in inner:
            if ch == '{':
                depth += 1
            if ch == '}':
                depth -= 1
            if ch == ',' and depth == 0:
                items.append(cur)
                cur = ''
            else:
                cur += ch
        items.append(cur)
        out = []
        for it in items:
            if it.strip():
                out += expand(prefix + pre, it)
        return out
    return [prefix + [x.strip() for x in s.split(' as ')[0].split('::') if x.strip()]]


def graph_of(root):
    files = {}
    for dp, _, fn in os.walk(root):
        for f in fn:
            if not f.endswith('.rs'):
                continue
            parts = os.path.relpath(os.path.join(dp, f), root)[:-3].split(os.sep)
            if parts[-1] in ('mod', 'lib', 'main'):
                parts = parts[:-1]
            if parts and parts[-1] == 'tests':
                continue
            files[tuple(parts)] = os.path.join(dp, f)
    srcs = {m: strip(open(p, encoding='utf-8').read()) for m, p in files.items()}
    defs = {m: set(ITEM.findall(s)) | set(MACRO.findall(s)) | set(WORDS.findall(s))
            for m, s in srcs.items()}

    def resolve_mod(path):
        for n in range(len(path), -1, -1):
            if tuple(path[:n]) in files:
                return tuple(path[:n]), path[n:]
        return None, path

    def defining(modpath, name):
        if name in defs.get(modpath, ()):
            return modpath
        cands = sorted((m for m in files if m[:len(modpath)] == modpath and name in defs[m]), key=len)
        return cands[0] if cands else modpath

    graph = {}
    for mod, src in srcs.items():
        targets = []
        for m in re.finditer(r'(\bpub(?:\([^)]*\))?\s+)?\buse\s+([^;]+);', src, re.S):
            if m.group(1):
                continue  # a re-export
            body = m.group(2).strip()
            head = body.split('::')[0].strip()
            if head == 'crate':
                base, rest = [], body[len('crate'):]
            elif head == 'self':
                base, rest = list(mod), body[len('self'):]
            elif head == 'super':
                base, rest = list(mod), body
                while rest.startswith('super'):
                    base = base[:-1]
                    rest = rest[len('super'):]
                    if rest.startswith('::super'):
                        rest = rest[2:]
            elif any(k[:len(mod) + 1] == tuple(list(mod) + [head]) for k in files):
                base, rest = list(mod), '::' + body
            else:
                continue  # another crate
            targets += expand(base, rest)
        for m in re.finditer(r'\bcrate((?:::[A-Za-z_][A-Za-z0-9_]*)+)', re.sub(r'\buse\s+[^;]+;', '', src)):
            targets.append(m.group(1).split('::')[1:])
        deps = set()
        for path in targets:
            path = [x for x in path if x not in ('self', '*')]
            mp, rest = resolve_mod(path)
            if mp is None:
                continue
            d = defining(mp, rest[0]) if rest else mp
            if d != mod:
                deps.add(d)
        graph[mod] = deps
    return graph


def cycles(graph):
    """Strongly connected components of more than one file (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in graph:
                    continue
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def name(m):
    return '::'.join(m) or 'lib'


def main(roots):
    found = 0
    for root in roots:
        g = graph_of(root)
        cs = cycles(g)
        print(f'{root}: {len(g)} files, {len(cs)} cycles')
        for comp in cs:
            found += 1
            members = set(comp)
            print('  cycle:', ', '.join(name(m) for m in comp))
            for v in comp:
                print('    ', name(v), '->', ', '.join(name(w) for w in sorted(g[v] & members)))
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:] or ['src']))
