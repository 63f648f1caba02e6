"""The scanner's dangerous lists, read from src/formats/pickle/globals.rs, as a Python check.

deny(module, name) mirrors the dangerous part of classify_builtin() in globals.rs: C-module
aliases folded (alias()), every dotted split of a name tried, DANGEROUS_NAMES matched on the
owner module and its submodules, DANGEROUS_MODULES matched on every dotted prefix (tiers above
Unknown only). When src/formats/pickle/data/dangerous_globals.tsv exists (the call-graph
danger list), its exact entries are refused too. Returns None or (tier, why, matched).
"""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GLOBALS_RS = os.path.join(ROOT, "src", "formats", "pickle", "globals.rs")
DANGER_TSV = os.path.join(ROOT, "src", "formats", "pickle", "data", "dangerous_globals.tsv")

TIERS = ["Safe", "Unknown", "System", "Dynamic", "Code"]


def _block(src, start):
    i = src.index(start)
    j = src.index("\n];", i)
    return src[i:j]


def load(path=GLOBALS_RS):
    src = open(path).read()
    consts = dict(re.findall(r'const (\w+): &str = "([^"]*)";', src))

    def why(tok):
        tok = tok.strip().rstrip(",").strip()
        if tok.startswith('"'):
            return tok.strip('"')
        return consts.get(tok, tok)

    names = []
    for m in re.finditer(r'\(\s*"([^"]+)",\s*"([^"]+)",\s*Tier::(\w+),\s*((?:"[^"]*")|\w+)\s*,?\s*\)',
                         _block(src, "static DANGEROUS_NAMES")):
        names.append((m.group(1), m.group(2), m.group(3), why(m.group(4))))
    modules = []
    for m in re.finditer(r'\(\s*"([^"]+)",\s*Tier::(\w+),\s*((?:"[^"]*")|\w+)\s*,?\s*\)',
                         _block(src, "static DANGEROUS_MODULES")):
        modules.append((m.group(1), m.group(2), why(m.group(3))))
    fn = src[src.index("fn alias("):src.index("// ----", src.index("fn alias("))]
    aliases = {}
    for m in re.finditer(r'((?:"[^"]+"\s*\|\s*)*"[^"]+")\s*=>\s*"([^"]+)"', fn.split("_ =>")[0]):
        for a in re.findall(r'"([^"]+)"', m.group(1)):
            aliases[a] = m.group(2)
    core = dict(re.findall(r'"(\w+)" => "(numpy\.core\.[\w.]+)"', fn))
    if not names or not modules or not aliases:
        raise SystemExit(f"could not read the dangerous lists from {path}")
    return names, modules, aliases, core


class Deny:
    def __init__(self, path=GLOBALS_RS):
        self.names, self.modules, self.aliases, self.core = load(path)
        self.extra = {}
        if os.path.exists(DANGER_TSV):
            for line in open(DANGER_TSV):
                if line.startswith("#") or not line.strip():
                    continue
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 2:
                    self.extra[(parts[0], parts[1])] = parts[-1] if len(parts) > 2 else "dangerous_globals.tsv"

    def alias(self, module):
        if module in self.aliases:
            return self.aliases[module]
        if module.startswith("numpy._core."):
            return self.core.get(module[len("numpy._core."):], module)
        return module

    def _name(self, module, name):
        best = None
        for m, n, t, why in self.names:
            if n == name and (module == m or module.startswith(m + ".")):
                if best is None or TIERS.index(t) > TIERS.index(best[0]):
                    best = (t, why, f"{m}.{n}")
        return best

    def _module(self, module):
        best = None
        for m, t, why in self.modules:
            if (module == m or module.startswith(m + ".")) and TIERS.index(t) > TIERS.index("Unknown"):
                if best is None or TIERS.index(t) > TIERS.index(best[0]):
                    best = (t, why, m)
        return best

    def candidates(self, module, name):
        m = self.alias(module)
        out = [(m, name)]
        if "." in name:
            parts = name.split(".")
            for i in range(1, len(parts)):
                head, tail = ".".join(parts[:i]), ".".join(parts[i:])
                out.append((self.alias(f"{m}.{head}"), tail))
                out.append((self.alias(head), tail))
        return out

    def deny_name(self, module, name):
        """Exact dangerous names: these win over every allowlist entry."""
        best = None
        for cm, cn in self.candidates(module, name):
            last = cn.rsplit(".", 1)[-1]
            owner = f"{cm}.{cn.rsplit('.', 1)[0]}" if "." in cn else cm
            hit = self._name(self.alias(owner), last)
            if hit and (best is None or TIERS.index(hit[0]) > TIERS.index(best[0])):
                best = hit
        if (module, name) in self.extra:
            hit = ("Code", self.extra[(module, name)], "dangerous_globals.tsv")
            if best is None:
                best = hit
        return best

    def deny_module(self, module, name):
        best = None
        for cm, cn in self.candidates(module, name):
            owners = [cm]
            if "." in cn:
                owners.append(f"{cm}.{cn.rsplit('.', 1)[0]}")
            for o in owners:
                hit = self._module(self.alias(o))
                if hit and (best is None or TIERS.index(hit[0]) > TIERS.index(best[0])):
                    best = hit
        return best


if __name__ == "__main__":
    import sys

    d = Deny()
    print(len(d.names), "names,", len(d.modules), "modules,", len(d.aliases), "aliases")
    for arg in sys.argv[1:]:
        mod, _, nm = arg.rpartition(":")
        print(arg, d.deny_name(mod, nm), d.deny_module(mod, nm))
