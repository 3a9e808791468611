"""Every import points down.

* Every module of the package imports on its own, in a fresh interpreter.
* The imports a module runs when it is imported -- its module-level import statements,
  and the package ``__init__.py`` files those run: ``import minigan.functional.conv`` from
  outside ``minigan.functional`` first runs ``minigan/functional/__init__.py`` and all that
  it imports -- form a graph without cycles.
* Every import (at the top or inside a function) goes from a module to its own layer or
  to a layer beneath it (``LAYERS``); the README's layout diagram draws the same layers.
"""

import ast
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
PACKAGE = ROOT / "minigan"

# The layers, bottom first. A module may import from its own layer and from every level
# beneath it; the layers of one level (app, lab, exercises) do not import one another.
# A member names a module or a package (with everything inside it).
LAYERS = [
    [("base", ("minigan.backend", "minigan.errors", "minigan.validate", "minigan.atomic",
               "minigan.file_kind", "minigan.checkpoint", "minigan.plots", "minigan.data"))],
    [("engine", ("minigan.engine", "minigan.parallel"))],
    [("math core", ("minigan.functional",))],
    [("nn", ("minigan.nn", "minigan.init", "minigan.losses", "minigan.optim",
             "minigan.gradcheck"))],
    [("gan", ("minigan.gan", "minigan.inspect", "minigan.metrics"))],
    [("app", ("minigan.app",)), ("lab", ("minigan.lab",)),
     ("exercises", ("minigan.exercises",))],
    [("cli", ("minigan.cli", "minigan.__main__", "minigan"))],
]
# packages the table places although a checkout need not have them (yet)
OPTIONAL_MEMBERS = {"minigan.lab", "minigan.exercises"}


STUBS = PACKAGE / "exercises" / "templates"


def module_files(package=PACKAGE):
    """{dotted module name: its file}, packages named by their __init__.py."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        if STUBS in path.parents:
            continue   # files written out for students, never imported as the package's
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _import_nodes(tree, at_import):
    """The Import/ImportFrom nodes of ``tree``; with ``at_import`` only those that run when
    the module is imported (not inside a function body: class bodies do run)."""
    stack = list(ast.iter_child_nodes(tree))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        if at_import and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(node))


def imported_modules(name, path, modules, at_import=False):
    """The package's modules that ``name`` imports in its file (``at_import``: only the
    statements that run on import). ``from X import y`` imports the module X.y when there
    is one, else X itself."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8")), at_import):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    found.add(f"{base}.{alias.name}")
                elif base in modules:
                    found.add(base)
    found.discard(name)
    return found


def with_packages(name, targets, modules):
    """``targets`` and the packages whose ``__init__`` importing them runs: every package
    above a target that ``name`` is not inside (the packages around ``name`` are already
    being imported when ``name`` runs, and are not run again)."""
    around = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    if modules.get(name, pathlib.Path()).name == "__init__.py":
        around.add(name)
    found = set(targets)
    for target in targets:
        parts = target.split(".")
        found.update(p for p in (".".join(parts[:i]) for i in range(1, len(parts)))
                     if p in modules and p not in around)
    found.discard(name)
    return found


def import_graph(package=PACKAGE, at_import=False):
    """{module: the modules importing it runs}; ``at_import``: the statements that run when
    it is imported, with the package ``__init__`` files they run; else every import
    statement of the file (inside functions too)."""
    modules = module_files(package)
    graph = {}
    for name, path in modules.items():
        targets = imported_modules(name, path, modules, at_import)
        graph[name] = with_packages(name, targets, modules) if at_import else targets
    return graph


def find_cycle(graph):
    """One cycle of ``graph`` as a list of nodes [a, b, ..., a], or None."""
    done, path = set(), []

    def visit(node):
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        path.append(node)
        for child in sorted(graph[node]):
            cycle = visit(child)
            if cycle:
                return cycle
        path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start)
        if cycle:
            return cycle
    return None


def layer_of(module):
    """(level, layer name) of ``module``: the layer of the longest member naming it."""
    best = None
    for level, layers in enumerate(LAYERS):
        for layer, members in layers:
            for member in members:
                inside = module == member or (member != "minigan"
                                              and module.startswith(member + "."))
                if inside and (best is None or len(member) > len(best[0])):
                    best = (member, level, layer)
    return None if best is None else best[1:]


def layer_violations(graph):
    """'a (layer) -> b (layer)' for every import that does not point down."""
    found = []
    for name, targets in sorted(graph.items()):
        level, layer = layer_of(name)
        for target in sorted(targets):
            target_level, target_layer = layer_of(target)
            if target_level > level or (target_level == level and target_layer != layer):
                found.append(f"{name} ({layer}) -> {target} ({target_layer})")
    return found


def test_the_graph_sees_the_imports_that_are_there():
    graph = import_graph()
    assert "minigan.nn.module" in graph["minigan.nn.batchnorm"]       # from .module import
    assert "minigan.init" in graph["minigan.nn.batchnorm"]            # from .. import init
    assert "minigan.nn" in graph["minigan.gan.models"]                # from ..nn import (...)
    assert "minigan.app.run" in graph["minigan.app.evaluate"]
    assert "minigan.inspect" in graph["minigan.app.run"]              # inside a function
    assert len(graph) > 100


def test_the_import_time_graph_sees_package_inits_and_skips_function_bodies():
    graph = import_graph(at_import=True)
    # from ..engine.unfold import ...: runs minigan/engine/__init__.py as well
    assert {"minigan.engine.unfold", "minigan.engine"} <= graph["minigan.functional.conv"]
    # from . import threads inside minigan.engine: the package is already being imported
    assert "minigan.engine" not in graph["minigan.engine.cpu"]
    assert "minigan.inspect" not in graph["minigan.app.run"]          # inside a function
    assert "minigan.functional.conv" in graph["minigan.functional"]   # the __init__ itself


def test_find_cycle_finds_a_loop():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def write_package(root, files):
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_a_cycle_through_a_package_init_is_found(tmp_path):
    """The loop im2col once made: engine/cpu.py imported functional/unfold.py, which runs
    functional/__init__.py, which imports conv.py, which imports the half-built engine.
    No two modules import each other directly: only the __init__ edge closes the loop."""
    package = write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/engine/__init__.py": "from .cpu import Cpu\n",
        "pkg/engine/cpu.py": "from ..functional import unfold\nclass Cpu: pass\n",
        "pkg/functional/__init__.py": "from .conv import conv\n",
        "pkg/functional/conv.py": "from .. import engine\ndef conv(): return engine\n",
        "pkg/functional/unfold.py": "def im2col(): pass\n",
    })
    assert find_cycle(import_graph(package)) is None          # module to module: no loop
    assert find_cycle(import_graph(package, at_import=True)) == [
        "pkg.engine", "pkg.engine.cpu", "pkg.functional", "pkg.functional.conv", "pkg.engine"]


def test_an_import_inside_a_function_makes_no_import_time_cycle(tmp_path):
    package = write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from . import b\n",
        "pkg/b.py": "def late():\n    from . import a\n    return a\n",
    })
    assert find_cycle(import_graph(package, at_import=True)) is None
    assert find_cycle(import_graph(package)) == ["pkg.a", "pkg.b", "pkg.a"]


def test_no_module_imports_itself_round_a_loop():
    cycle = find_cycle(import_graph())
    assert cycle is None, "an import cycle: " + " -> ".join(cycle)


def test_nothing_run_on_import_loops_back_package_inits_included():
    cycle = find_cycle(import_graph(at_import=True))
    assert cycle is None, "an import cycle when importing: " + " -> ".join(cycle)


def test_every_module_has_a_layer_and_every_layer_member_exists():
    modules = module_files()
    unplaced = sorted(name for name in modules if layer_of(name) is None)
    assert not unplaced, f"modules in no layer of LAYERS (place them): {unplaced}"
    members = [m for layers in LAYERS for _, group in layers for m in group]
    missing = sorted(m for m in members if m not in modules and m not in OPTIONAL_MEMBERS)
    assert not missing, f"LAYERS names modules the package does not have: {missing}"


def test_layer_of_places_modules_by_their_longest_member():
    assert layer_of("minigan") == (6, "cli")
    assert layer_of("minigan.functional.conv") == (2, "math core")
    assert layer_of("minigan.engine.unfold") == (1, "engine")
    assert layer_of("minigan.lab.server") == (5, "lab")
    assert layer_of("minigan.nowhere") is None


def test_layer_violations_sees_an_upward_and_a_sideways_import():
    graph = {"minigan.nn.dense": {"minigan.gan.trainer", "minigan.functional.dense"},
             "minigan.lab.server": {"minigan.app.run", "minigan.gan.trainer"},
             "minigan.functional.dense": {"minigan.engine"}, "minigan.engine": set(),
             "minigan.gan.trainer": set(), "minigan.app.run": set()}
    assert layer_violations(graph) == [
        "minigan.lab.server (lab) -> minigan.app.run (app)",
        "minigan.nn.dense (nn) -> minigan.gan.trainer (gan)"]


def test_every_import_points_down_the_layers():
    graph = import_graph()
    at_import = import_graph(at_import=True)
    both = {name: graph[name] | at_import[name] for name in graph}
    violations = layer_violations(both)
    assert not violations, "imports that do not point down:\n  " + "\n  ".join(violations)


def readme_diagram(text=None):
    """([[layer names of one level], ...] top first, {"name · name": {modules}}) from the
    first code block of the README's Layout section: lines 'name · name   path path ...'
    (paths inside minigan/, a package with a trailing slash; an indented line goes on
    with the paths of the line above), and arrows between them."""
    text = (ROOT / "README.md").read_text(encoding="utf-8") if text is None else text
    section = text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"^```\w*\n(.*?)^```", section, re.S | re.M).group(1)
    levels, members, key = [], {}, None
    for line in block.splitlines():
        named = re.match(r"^([a-z][a-z ·]*?)\s{2,}(\S.*)$", line)
        more = re.match(r"^\s+([\w./].*)$", line)
        if named:
            names = [name.strip() for name in named.group(1).split("·")]
            levels.append(names)
            key, paths = " · ".join(names), named.group(2)
            members[key] = set()
        elif more and key is not None:
            paths = more.group(1)
        else:
            continue
        for path in paths.split():
            dotted = path.rstrip("/").removesuffix(".py").replace("/", ".")
            members[key].add("minigan" if dotted == "__init__" else f"minigan.{dotted}")
    return levels, members


def test_the_diagram_reader_reads_names_paths_and_continued_lines():
    text = ("# x\n## Layout\n\n```\ntop     a.py  b/\n  ↓\nx · y   c/\n        __init__.py\n```\n"
            "## Next\n")
    assert readme_diagram(text) == ([["top"], ["x", "y"]],
                                    {"top": {"minigan.a", "minigan.b"},
                                     "x · y": {"minigan.c", "minigan"}})


def test_the_readme_diagram_draws_the_layers_of_the_table():
    levels, members = readme_diagram()
    assert levels == [[layer for layer, _ in level] for level in reversed(LAYERS)]
    for level in LAYERS:
        key = " · ".join(layer for layer, _ in level)
        assert members[key] == {m for _, group in level for m in group}, key


def test_every_module_imports_in_a_fresh_interpreter():
    names = sorted(set(module_files()) - {"minigan.__main__"})  # that one runs the CLI
    script = ("import importlib, sys\n"
              f"for name in {names!r}:\n"
              "    importlib.import_module(name)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=PACKAGE.parent, timeout=300)
    assert proc.returncode == 0, proc.stderr
