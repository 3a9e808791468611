"""Private stays private: read from the source, not run.

* A layer's private state -- what its forward keeps for backward (``_cache``,
  ``_output_shape``), its parameter-gradient helpers (``_accumulate``,
  ``_needs_param_grads``) and its buffer list (``_buffer_names``) -- is touched only by
  the layer itself (``self._cache``) and by ``minigan/nn/module.py``; everyone else uses
  the public handles (``save_backward_state``, ``computes_param_grads``, ...).
* No module imports another module's private (``_name``) name, by ``from m import _name``
  or as ``m._name`` of an imported minigan module: what is shared is public where it
  belongs, what is not stays in its own file. (The standard library's privates, such as
  argparse's, are another matter; the benchmarks, which may reach into the trainer's noise
  streams to replay a step, are not held to this.)
"""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
SOURCES = ["minigan", "examples", "scripts", "benchmarks"]
IMPORT_SOURCES = ["minigan", "examples", "scripts"]
LAYER_STATE = {"_cache", "_output_shape", "_accumulate", "_needs_param_grads", "_buffer_names"}
MODULE_FILE = pathlib.Path("minigan/nn/module.py")


def python_files(directories=SOURCES, root=ROOT):
    for directory in directories:
        yield from sorted((root / directory).rglob("*.py"))


def layer_state_touches(path, root=ROOT):
    """'file:line: what' for each use of a layer's private state on an object other than
    ``self``: an attribute (``module._cache``) or its name in a string (``getattr(m,
    "_cache")``, ``vars(m).get("_output_shape")``)."""
    found = []
    where = path.relative_to(root)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in LAYER_STATE:
            if not (isinstance(node.value, ast.Name) and node.value.id == "self"):
                found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Constant) and node.value in LAYER_STATE:
            found.append(f"{where}:{node.lineno}: the string {node.value!r}")
    return found


def test_the_layer_state_check_sees_other_objects_and_strings(tmp_path):
    (tmp_path / "pkg").mkdir()
    source = tmp_path / "pkg" / "reach.py"
    source.write_text("def f(self, module):\n"
                      "    self._cache = None\n"                       # its own: fine
                      "    module._cache = None\n"
                      "    self.inner._needs_param_grads()\n"
                      "    return vars(module).get('_output_shape')\n", encoding="utf-8")
    assert layer_state_touches(source, tmp_path) == [
        "pkg/reach.py:3: module._cache", "pkg/reach.py:4: self.inner._needs_param_grads",
        "pkg/reach.py:5: the string '_output_shape'"]


def test_no_one_but_module_py_touches_another_layers_private_state():
    found = [touch for path in python_files() if path.relative_to(ROOT) != MODULE_FILE
             for touch in layer_state_touches(path)]
    assert not found, ("private layer state reached from outside (use Module's "
                       "save_backward_state / restore_backward_state / clear_backward_state / "
                       "computes_param_grads / accumulate_param_grads):\n  " + "\n  ".join(found))


def _private(name):
    return name.startswith("_") and not name.startswith("__")


def private_imports(path, root=ROOT):
    """'file:line: what' for each private name of a minigan module that ``path`` imports
    (``from minigan.x import _y``, ``from .x import _y``) or reads from an imported minigan
    module (``x._y`` after ``from minigan import x`` or ``import minigan.x as x``)."""
    found = []
    where = path.relative_to(root)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = set()       # the names bound to minigan modules (or objects) by an import
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0]
                                                  == "minigan"):
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{where}:{node.lineno}: imports {alias.name}")
                modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "minigan":
                    modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):      # minigan.data.batches._x: "minigan"
                root = root.value
            if isinstance(root, ast.Name) and root.id in modules:
                found.append(f"{where}:{node.lineno}: reads {ast.unparse(node)}")
    return found


def test_the_private_import_check_sees_both_spellings(tmp_path):
    (tmp_path / "pkg").mkdir()
    source = tmp_path / "pkg" / "reach.py"
    source.write_text("import argparse\n"
                      "from .models import _flag, public\n"
                      "from minigan.gan import trainer as t\n"
                      "import minigan.data.batches\n"
                      "def f(self):\n"
                      "    self._x, argparse._SubParsersAction, public.__name__\n"  # fine
                      "    return t._D_STREAMS, minigan.data.batches._private\n",
                      encoding="utf-8")
    assert private_imports(source, tmp_path) == [
        "pkg/reach.py:2: imports _flag", "pkg/reach.py:7: reads t._D_STREAMS",
        "pkg/reach.py:7: reads minigan.data.batches._private"]


def test_no_module_imports_another_modules_private_name():
    found = [hit for path in python_files(IMPORT_SOURCES) for hit in private_imports(path)]
    assert not found, ("private names used across modules (make a shared one public where "
                       "it belongs, keep the others local):\n  " + "\n  ".join(found))
