"""Architecture guards: no import cycles, no module-level mutable state, a thin CLI.

These tests read the source with :mod:`ast` and import nothing from ``forensic``: the layering
(core packages, ``forensic.service``, front ends) stays true as the code grows.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "forensic"


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool

    @property
    def package(self) -> str:
        """The package that relative imports in this module are resolved against."""
        return self.name if self.is_package else self.name.rpartition(".")[0]

    def tree(self) -> ast.Module:
        return ast.parse(self.path.read_text("utf-8"), str(self.path))


def forensic_modules() -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        name = ".".join(parts)
        modules[name] = Module(name, path, is_package)
    return modules


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_nodes(body: list[ast.stmt], deferred: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements that run when the module (``deferred``: or any of its functions) runs;
    ``if TYPE_CHECKING:`` blocks never run."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not is_type_checking(node.test):
                yield from import_nodes(node.body, deferred)
            yield from import_nodes(node.orelse, deferred)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from import_nodes(block, deferred)
            for handler in node.handlers:
                yield from import_nodes(handler.body, deferred)
        elif isinstance(node, ast.With) or (
            deferred and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ):
            yield from import_nodes(node.body, deferred)
        elif deferred and isinstance(node, ast.For | ast.While):
            yield from import_nodes(node.body + node.orelse, deferred)


def imported_modules(module: Module, modules: dict[str, Module], deferred: bool) -> set[str]:
    """The ``forensic`` modules that importing ``module`` executes (its own ancestors, which are
    already being imported when it runs, excluded unless it reads a name from them)."""
    ancestors = {module.name.rsplit(".", i)[0] for i in range(1, module.name.count(".") + 1)}

    def with_parents(name: str) -> set[str]:
        parts = name.split(".")
        chain = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
        return {m for m in chain if m in modules and m not in ancestors}

    found: set[str] = set()
    for node in import_nodes(module.tree().body, deferred):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found |= with_parents(alias.name)
            continue
        if node.level:
            base = module.package.split(".")[: len(module.package.split(".")) - node.level + 1]
            source = ".".join([*base, *([node.module] if node.module else [])])
        else:
            source = node.module or ""
        found |= with_parents(source)
        for alias in node.names:
            if f"{source}.{alias.name}" in modules:
                found |= with_parents(f"{source}.{alias.name}")
            elif source in modules:
                found.add(source)  # a name defined in the package itself: a real dependency
    found.discard(module.name)
    return found


def import_cycles(deferred: bool) -> list[frozenset[str]]:
    """Strongly connected components (more than one module) of the import graph, by Tarjan."""
    modules = forensic_modules()
    graph = {name: imported_modules(m, modules, deferred) for name, m in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[frozenset[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(frozenset(component))

    for name in sorted(graph):
        if name not in index:
            connect(name)
    return cycles


# Cycles other work is removing right now. Each entry is a set of modules a cycle may stay
# inside but must not grow beyond: the lead empties this list once that work is merged, and the
# tests then forbid every cycle.
KNOWN_CYCLES: tuple[frozenset[str], ...] = ()


def unexpected(cycles: list[frozenset[str]]) -> list[list[str]]:
    return [sorted(c) for c in cycles if not any(c <= known for known in KNOWN_CYCLES)]


def test_no_import_cycle_at_module_level() -> None:
    """Importing any module never re-enters a module that is half initialised."""
    assert unexpected(import_cycles(deferred=False)) == []


def test_no_import_cycle_through_deferred_imports() -> None:
    """A function-level import that closes a cycle only hides it: shared types belong in a
    neutral module both sides import."""
    assert unexpected(import_cycles(deferred=True)) == []


# -- module-level mutable state -------------------------------------------------------------
# A module-level list, dict or set (or a ``global`` rebinding) is state every session, case and
# thread in the process shares: two sessions in one process would see each other's keys, items or
# registrations. Constants are frozensets, tuples or ``types.MappingProxyType``; registries are
# objects built per use; memoised pure functions (``functools.cache``) are fine.
MUTABLE_CALLS = frozenset(
    {
        "dict",
        "list",
        "set",
        "bytearray",
        "defaultdict",
        "OrderedDict",
        "Counter",
        "deque",
        "local",  # threading.local()
        "Lock",  # threading.Lock(): shared state between every caller in the process
        "RLock",
        "WeakValueDictionary",
        "WeakKeyDictionary",
        "WeakSet",
    }
)
MUTATING_METHODS = frozenset(
    {"append", "extend", "insert", "update", "add", "setdefault", "pop", "clear", "remove"}
)
# ``file:name`` of module-level bindings that are allowed, each with why.
ALLOWED_STATE: frozenset[str] = frozenset(
    {
        # Serialises Argon2id derivations: OpenSSL's multi-lane Argon2 hangs when two threads
        # derive at once, a process-wide resource, so its guard is process-wide too.
        "forensic/custody/keys.py:_KDF_LOCK",
    }
)


def mutable_value(value: ast.expr | None) -> bool:
    if isinstance(value, ast.List | ast.Dict | ast.Set | ast.ListComp | ast.DictComp | ast.SetComp):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name in MUTABLE_CALLS
    return False


def module_state(module: Module) -> Iterator[tuple[str, str]]:
    """``(file:name, what)`` for every module-level mutable binding, every module-level call
    that mutates a module-level name, and every ``global`` statement."""
    where = str(module.path.relative_to(PACKAGE.parent))
    tree = module.tree()
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and mutable_value(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                name = ast.unparse(target)
                if name != "__all__":  # read by the import system; a list by convention
                    yield f"{where}:{name}", f"line {node.lineno}: {ast.unparse(node)[:60]}"
        elif isinstance(node, ast.AugAssign):
            yield f"{where}:{ast.unparse(node.target)}", f"line {node.lineno}: augmented at import"
        elif (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr in MUTATING_METHODS
        ):
            target = ast.unparse(node.value.func.value)
            yield f"{where}:{target}", f"line {node.lineno}: mutated at import"
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            for name in node.names:
                yield f"{where}:{name}", f"line {node.lineno}: global {name}"


def test_no_module_level_mutable_state() -> None:
    found = [
        f"{name} ({what})"
        for module in forensic_modules().values()
        for name, what in module_state(module)
        if name not in ALLOWED_STATE
    ]
    assert found == []


def test_state_allow_list_is_not_stale() -> None:
    """An allowed binding that is gone must leave the allow-list too."""
    present = {name for m in forensic_modules().values() for name, _ in module_state(m)}
    assert sorted(ALLOWED_STATE - present) == []


# -- the CLI is an adapter -------------------------------------------------------------------
def cli_write_protocol_uses(module: Module) -> Iterator[str]:
    """Where a CLI module writes custody entries or locks a case itself, which only the
    application layer (``forensic.service``) may do."""
    root = PACKAGE.parent
    where = module.path.relative_to(root) if module.path.is_relative_to(root) else module.path
    for node in ast.walk(module.tree()):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in ("forensic.custody.log", "forensic.case.lock"):
                    yield f"{where}:{line}: import {alias.name}"
        elif isinstance(node, ast.ImportFrom):
            names = {a.name for a in node.names}
            if node.module in ("forensic.custody.log", "forensic.case.lock") or (
                node.module in ("forensic.custody", "forensic.case") and names & {"log", "lock"}
            ):
                yield f"{where}:{line}: from {node.module} import {', '.join(sorted(names))}"
            if "PendingEntry" in names:
                yield f"{where}:{line}: imports PendingEntry"
        elif "PendingEntry" in (getattr(node, "id", None), getattr(node, "attr", None)):
            yield f"{where}:{line}: PendingEntry"
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "case_lock":
                yield f"{where}:{line}: case_lock(...)"
            elif isinstance(func, ast.Attribute) and func.attr in (
                "writing",
                "case_lock",
                "step",
                "record",
                "record_access",
            ):
                yield f"{where}:{line}: .{func.attr}(...)"


def test_cli_neither_writes_custody_entries_nor_locks_cases() -> None:
    cli = [m for name, m in forensic_modules().items() if name.startswith("forensic.cli")]
    assert cli, "no forensic.cli modules found"
    assert [use for m in cli for use in cli_write_protocol_uses(m)] == []


def test_the_cli_scan_finds_each_kind_of_write(tmp_path: Path) -> None:
    """The scan above can fail: a planted verb with every forbidden use is reported."""
    planted = tmp_path / "forensic" / "cli" / "planted.py"
    planted.parent.mkdir(parents=True)
    planted.write_text(
        "from forensic.custody.log import PendingEntry\n"
        "from forensic.case.lock import case_lock\n"
        "def verb(case, key):\n"
        "    with case_lock(case.root):\n"
        "        case.record(key, [PendingEntry('note', 'case:x', {})])\n"
        "    with case.writing(key), case.step(key, 'note'):\n"
        "        pass\n",
        "utf-8",
    )
    found = list(cli_write_protocol_uses(Module("forensic.cli.planted", planted, False)))
    text = "\n".join(found)
    for needle in (
        "import PendingEntry",
        "from forensic.case.lock",
        "case_lock(...)",
        ".record(...)",
        ".writing(...)",
        ".step(...)",
    ):
        assert needle in text, (needle, found)
