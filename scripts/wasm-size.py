#!/usr/bin/env python3
"""What the page's WebAssembly module is made of: the code bytes of each crate (or module of a
crate), the data segments, and the module's other sections, sorted by size.

    scripts/wasm-size.py [WASM] [--depth N] [--under PREFIX] [--top N]

WASM defaults to the module cargo emits for the page, before wasm-bindgen and wasm-opt
(`$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/kafkalab_web.wasm`): that one still has
its `name` custom section, which names every function. Each function body's bytes go to the
crate its demangled name starts with: `kafkalab_core::simulation::Simulation::advance` counts
for `kafkalab_core::simulation`, `<tachys::html::element::HtmlElement<..> as ..>::build` for
`tachys`, `<str as core::fmt::Display>::fmt` (a primitive's impl) for `core::fmt`. The crates
listed in DEEP_CRATES are split by module (`--depth` levels of path); the rest by crate.

  --depth N         path segments kept for DEEP_CRATES (default 2); other crates keep 1
  --under PREFIX    only functions whose group path starts with PREFIX, one level deeper
                    (`--under kafkalab_core::simulation` splits that module by its children)
  --top N           also list the N largest functions

Sizes are of the unoptimised module: wasm-opt shrinks everything (and drops the name section),
so read the percentages, not the bytes, as the share each part has of the shipped module.
Generic code counts where it is instantiated from (a `Vec<Broker>` method is `alloc::vec`).

Python 3 standard library only.
"""

import argparse
import os
import re
import sys

# Crates split by module rather than counted whole.
DEEP_CRATES = {"kafkalab_core", "kafkalab_web", "core", "alloc", "std"}

SECTION_NAMES = {
    0: "custom",
    1: "type",
    2: "import",
    3: "function",
    4: "table",
    5: "memory",
    6: "global",
    7: "export",
    8: "start",
    9: "element",
    10: "code",
    11: "data",
    12: "data count",
    13: "tag",
}


class Reader:
    """A cursor over the module's bytes, reading WebAssembly's encodings."""

    def __init__(self, data, pos=0, end=None):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def byte(self):
        value = self.data[self.pos]
        self.pos += 1
        return value

    def leb(self):
        """An unsigned LEB128 number."""
        result, shift = 0, 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return result

    def name(self):
        length = self.leb()
        text = self.data[self.pos : self.pos + length].decode("utf-8", errors="replace")
        self.pos += length
        return text

    def limits(self):
        flags = self.byte()
        self.leb()
        if flags & 1:
            self.leb()

    def at_end(self):
        return self.pos >= self.end


def sections(data):
    """(id, name, start of content, end of content, whole size with header) for each section."""
    if data[:4] != b"\0asm":
        raise SystemExit("not a WebAssembly module (no \\0asm magic)")
    reader = Reader(data, 8)
    found = []
    while not reader.at_end():
        header = reader.pos
        section_id = reader.byte()
        size = reader.leb()
        start = reader.pos
        name = SECTION_NAMES.get(section_id, f"unknown {section_id}")
        if section_id == 0:
            name = "custom: " + Reader(data, start).name()
        found.append((section_id, name, start, start + size, start + size - header))
        reader.pos = start + size
    return found


def imported_function_count(data, start, end):
    """How many of the import section's entries are functions: they take the first indices."""
    reader = Reader(data, start, end)
    functions = 0
    for _ in range(reader.leb()):
        reader.name()
        reader.name()
        kind = reader.byte()
        if kind == 0:  # function: its type index
            reader.leb()
            functions += 1
        elif kind == 1:  # table: element type, limits
            reader.byte()
            reader.limits()
        elif kind == 2:  # memory
            reader.limits()
        elif kind == 3:  # global: value type, mutability
            reader.byte()
            reader.byte()
        elif kind == 4:  # tag: attribute, type index
            reader.byte()
            reader.leb()
        else:
            raise SystemExit(f"unknown import kind {kind}")
    return functions


def function_bodies(data, start, end):
    """(size with its length prefix) of each code-section body, in order."""
    reader = Reader(data, start, end)
    sizes = []
    for _ in range(reader.leb()):
        before = reader.pos
        size = reader.leb()
        reader.pos += size
        sizes.append(reader.pos - before)
    return sizes


def data_segments(data, start, end):
    """The size (with its header) of each data segment, in order."""
    reader = Reader(data, start, end)
    sizes = []
    for _ in range(reader.leb()):
        before = reader.pos
        flags = reader.leb()
        if flags == 2:  # active, with an explicit memory index
            reader.leb()
        if flags in (0, 2):  # active: an offset expression ending in `end` (0x0b)
            while reader.byte() != 0x0B:
                pass
        size = reader.leb()
        reader.pos += size
        sizes.append(reader.pos - before)
    return sizes


def function_names(data, start, end):
    """The `name` section's function names, by function index."""
    reader = Reader(data, start, end)
    reader.name()  # "name"
    names = {}
    while not reader.at_end():
        subsection = reader.byte()
        size = reader.leb()
        after = reader.pos + size
        if subsection == 1:
            for _ in range(reader.leb()):
                index = reader.leb()
                names[index] = reader.name()
        reader.pos = after
    return names


LEGACY_ESCAPES = {"SP": "@", "BP": "*", "RF": "&", "LT": "<", "GT": ">", "LP": "(", "RP": ")", "C": ","}


def unescape(identifier):
    """A legacy-mangled identifier's `$..$` escapes and `..` (for `::`) decoded."""

    def escape(match):
        code = match.group(1)
        if code in LEGACY_ESCAPES:
            return LEGACY_ESCAPES[code]
        if code.startswith("u"):
            try:
                return chr(int(code[1:], 16))
            except ValueError:
                pass
        return match.group(0)

    if identifier.startswith("_$"):
        identifier = identifier[1:]
    return re.sub(r"\$([A-Za-z0-9]+)\$", escape, identifier).replace("..", "::")


def demangle(symbol):
    """A Rust symbol, legacy (`_ZN..E`) or v0 (`_R..`), as a path without its hash; anything
    else unchanged."""
    if symbol.startswith(("_R", "__R")):
        try:
            return V0(symbol[symbol.index("R") + 1 :]).symbol()
        except (IndexError, ValueError, RecursionError):
            return symbol
    body = symbol[1:] if symbol.startswith("__ZN") else symbol
    if not body.startswith("_ZN"):
        return symbol
    parts, i = [], 3
    while i < len(body) and body[i] != "E":
        digits = re.match(r"\d+", body[i:])
        if not digits:
            return symbol
        length = int(digits.group(0))
        i += len(digits.group(0))
        parts.append(body[i : i + length])
        i += length
    if parts and re.fullmatch(r"h[0-9a-f]{16}", parts[-1]):
        parts.pop()
    return "::".join(unescape(p) for p in parts)


V0_BASIC_TYPES = {
    "a": "i8", "b": "bool", "c": "char", "d": "f64", "e": "str", "f": "f32", "h": "u8", "i": "isize",
    "j": "usize", "l": "i32", "m": "u32", "n": "i128", "o": "u128", "s": "i16", "t": "u16", "u": "()",
    "v": "...", "x": "i64", "y": "u64", "z": "!", "p": "_",
}


class V0:
    """Rust's v0 mangling (RFC 2603), read back as text: enough of it to name a function's path,
    its impl's type and trait, and generic arguments."""

    def __init__(self, text, pos=0, depth=0):
        self.text, self.pos, self.depth = text, pos, depth
        if depth > 40:
            raise RecursionError

    def peek(self):
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self, char):
        if self.peek() == char:
            self.pos += 1
            return True
        return False

    def next(self):
        char = self.text[self.pos]
        self.pos += 1
        return char

    def base62(self):
        if self.take("_"):
            return 0
        value = 0
        while not self.take("_"):
            char = self.next()
            digit = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".index(char)
            value = value * 62 + digit
        return value + 1

    def decimal(self):
        start = self.pos
        while self.peek().isdigit():
            self.pos += 1
        return int(self.text[start : self.pos])

    def disambiguator(self):
        if self.take("s"):
            self.base62()

    def identifier(self):
        self.disambiguator()
        punycode = self.take("u")
        length = self.decimal()
        self.take("_")
        name = self.text[self.pos : self.pos + length]
        self.pos += length
        return name + ("(punycode)" if punycode else "")

    def backref(self, read):
        target = self.base62()
        return read(V0(self.text, target, self.depth + 1))

    def symbol(self):
        if self.peek().isdigit():
            self.decimal()
        return self.path()

    def path(self):
        tag = self.next()
        if tag == "C":
            return self.identifier()
        if tag == "N":
            namespace = self.next()
            parent = self.path()
            name = self.identifier()
            if namespace == "C":
                return f"{parent}::{{closure}}"
            if namespace.isupper():
                return f"{parent}::{{shim:{namespace}}}"
            return f"{parent}::{name}" if name else parent
        if tag == "M":
            self.disambiguator()
            self.path()
            return f"<{self.type()}>"
        if tag == "X":
            self.disambiguator()
            self.path()
            own = self.type()
            return f"<{own} as {self.path()}>"
        if tag == "Y":
            own = self.type()
            return f"<{own} as {self.path()}>"
        if tag == "I":
            base = self.path()
            args = []
            while not self.take("E"):
                args.append(self.generic_arg())
            return f"{base}<{', '.join(a for a in args if a)}>"
        if tag == "B":
            return self.backref(V0.path)
        raise ValueError(tag)

    def generic_arg(self):
        if self.take("L"):
            self.base62()
            return ""
        if self.take("K"):
            return self.const()
        return self.type()

    def const(self):
        if self.take("p"):
            return "_"
        if self.take("B"):
            return self.backref(V0.const)
        self.type()
        self.take("n")
        while not self.take("_"):
            self.next()
        return "{const}"

    def type(self):
        tag = self.peek()
        if tag in V0_BASIC_TYPES:
            self.pos += 1
            return V0_BASIC_TYPES[tag]
        self.pos += 1
        if tag == "A":
            inner = self.type()
            return f"[{inner}; {self.const()}]"
        if tag == "S":
            return f"[{self.type()}]"
        if tag == "T":
            items = []
            while not self.take("E"):
                items.append(self.type())
            return f"({', '.join(items)})"
        if tag in "RQ":
            if self.take("L"):
                self.base62()
            return ("&" if tag == "R" else "&mut ") + self.type()
        if tag in "PO":
            return ("*const " if tag == "P" else "*mut ") + self.type()
        if tag == "F":
            if self.take("G"):
                self.base62()
            self.take("U")
            if self.take("K") and not self.take("C"):
                self.identifier()
            params = []
            while not self.take("E"):
                params.append(self.type())
            return f"fn({', '.join(params)}) -> {self.type()}"
        if tag == "D":
            if self.take("G"):
                self.base62()
            traits = []
            while not self.take("E"):
                traits.append(self.path())
                while self.take("p"):
                    self.identifier()
                    self.type()
            if self.take("L"):
                self.base62()
            return "dyn " + " + ".join(traits)
        if tag == "B":
            return self.backref(V0.type)
        self.pos -= 1
        return self.path()


def leading_path(text):
    """The path at the start of `text`, up to the first generic, space or bracket."""
    match = re.match(r"[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_{][A-Za-z0-9_{}]*)*", text)
    return match.group(0) if match else ""


def owner_path(name):
    """The path a function belongs to: its own, or for `<Type as Trait>::f` the type's, or the
    trait's when the type is a primitive, a reference to one, or a type parameter."""
    if not name.startswith("<"):
        return leading_path(name)
    inner = name[1:].lstrip("&*[(").removeprefix("mut ").removeprefix("const ").removeprefix("dyn ")
    inner = inner.lstrip("&*[(")
    self_path = leading_path(inner)
    if "::" in self_path:
        return self_path
    trait = re.search(r" as ([A-Za-z_][A-Za-z0-9_:]*)", name)
    return trait.group(1) if trait else self_path or "(other)"


def group_of(name, depth, under=None):
    """The table row a function counts for (None when `under` excludes it)."""
    if name is None:
        return "(unnamed functions)"
    demangled = demangle(name)
    path = owner_path(demangled)
    if "::" not in demangled and not demangled.startswith("<"):
        # Not a Rust path: wasm-bindgen's exports and descriptors, or C-level symbols.
        if demangled.startswith("__wbindgen_describe"):
            path = "(wasm-bindgen descriptors: wasm-bindgen removes them)"
        elif demangled.startswith(("__wbindgen", "__wbg", "__externref")) or re.search(r"_[0-9a-f]{16}$", demangled):
            path = "wasm_bindgen (exports and shims)"
        else:
            path = "compiler_builtins (mem*, libm) and allocator shims"
        return path if under is None else None
    if path.split("::")[0] in ("__rustc", "compiler_builtins"):
        path = "compiler_builtins (mem*, libm) and allocator shims"
        return path if under is None else None
    segments = [s for s in path.split("::") if s and not s.startswith("{")]
    if not segments:
        return "(other)"
    if under is not None:
        prefix = under.split("::")
        if segments[: len(prefix)] != prefix:
            return None
        return "::".join(segments[: len(prefix) + 1])
    keep = depth if segments[0] in DEEP_CRATES else 1
    return "::".join(segments[:keep])


def default_wasm():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(__file__), "..", "target"))
    return os.path.join(target, "wasm32-unknown-unknown", "wasm-release", "kafkalab_web.wasm")


def table(rows, total):
    """Markdown rows of (what, bytes) with their share of `total`, largest first."""
    width = max([len(what) for what, _ in rows] + [4])
    lines = [f"| {'part':<{width}} | {'bytes':>10} | {'share':>6} |", f"|{'-' * (width + 2)}|{'-' * 12}:|{'-' * 7}:|"]
    for what, size in sorted(rows, key=lambda r: (-r[1], r[0])):
        lines.append(f"| {what:<{width}} | {size:>10,} | {100.0 * size / total:>5.1f}% |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wasm", nargs="?", default=default_wasm())
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--under")
    parser.add_argument("--top", type=int, default=0)
    args = parser.parse_args()

    with open(args.wasm, "rb") as f:
        data = f.read()
    found = sections(data)
    imports = sum(imported_function_count(data, s, e) for i, _, s, e, _ in found if i == 2)
    bodies = [b for i, _, s, e, _ in found if i == 10 for b in function_bodies(data, s, e)]
    segments = [b for i, _, s, e, _ in found if i == 11 for b in data_segments(data, s, e)]
    name_sections = [(s, e) for i, n, s, e, _ in found if n == "custom: name"]
    if not name_sections:
        sys.exit(
            f"{args.wasm} has no name section, so its functions cannot be told apart: build it with "
            "CARGO_PROFILE_WASM_RELEASE_STRIP=none (and debug=false), or pass a module that keeps names"
        )
    names = function_names(data, *name_sections[0])

    groups = {}
    functions = []
    for offset, size in enumerate(bodies):
        name = names.get(imports + offset)
        group = group_of(name, args.depth, args.under)
        if group is None:
            continue
        groups[group] = groups.get(group, 0) + size
        functions.append((size, demangle(name) if name else f"function {imports + offset}"))

    code = sum(bodies)
    data_bytes = sum(segments)
    custom = [(n, whole) for i, n, _, _, whole in found if i == 0]
    shipped = len(data) - sum(whole for _, whole in custom)

    print(f"{args.wasm}: {len(data):,} bytes, {len(bodies):,} functions ({imports} imported), "
          f"{len(segments)} data segments")
    if args.under:
        print(f"\nCode under {args.under} ({sum(groups.values()):,} bytes; shares of all code, {code:,} bytes):\n")
        print(table(list(groups.items()), code))
    else:
        rows = list(groups.items())
        rows.append(("(data segments)", data_bytes))
        exports = sum(whole for i, _, _, _, whole in found if i == 7)
        rows.append(("(export section: mostly wasm-bindgen's, which it removes)", exports))
        rows.append(("(other sections: types, imports, tables, headers)", shipped - code - data_bytes - exports))
        print(f"\nCode by crate and module, then data (shares of the module without custom sections, "
              f"{shipped:,} bytes):\n")
        print(table(rows, shipped))
        crates = {}
        for group, size in groups.items():
            crate = group if group.startswith("(") else group.split("::")[0].split(" ")[0]
            crates[crate] = crates.get(crate, 0) + size
        print(f"\nCode by crate (shares of all code, {code:,} bytes):\n")
        print(table(list(crates.items()), code))
        print("\nCustom sections (not shipped: wasm-opt drops them): "
              + ", ".join(f"{n.removeprefix('custom: ')} {w:,} bytes" for n, w in custom))
    if args.top:
        print(f"\nThe {args.top} largest functions:\n")
        print(table([(name[:110], size) for size, name in sorted(functions, reverse=True)[: args.top]], code))


if __name__ == "__main__":
    main()
