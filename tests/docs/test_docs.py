"""The documentation stays true to the code and to the repository.

- every relative link and image in docs/**/*.md and README.md points at an existing file
  (a figure that an example has not produced yet fails here), and every ``#anchor`` into a
  Markdown page matches one of its headings (GitHub's slugs);
- every ``minigan.<name>`` written in backticks in the docs can be imported or reached
  with getattr;
- every function the layer pages name from the functional core (``conv2d_forward``,
  ``update_running_stats``, ...) exists in ``minigan/functional/``;
- every line of the Python code the layer pages, gan_math.md and
  backprop_through_the_backprop.md *quote* appears in the library's source, so a quoted
  line cannot silently drift from the code;
- every ```python block of docs/api.md runs without error.
"""

import importlib
import re
import unicodedata
from pathlib import Path

import pytest

import minigan.functional

ROOT = Path(__file__).resolve().parent.parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md")) + [ROOT / "README.md"]

# the layer pages whose ```python blocks are verbatim quotes of the library
LAYER_PAGES = ["dense", "conv2d", "conv_transpose2d", "batchnorm", "layer_norm", "leaky_relu",
               "relu", "tanh", "sigmoid", "bce_with_logits", "shape"]
LAYER_PAGES += ["upsample2d", "avg_pool2d", "pixel_norm", "fade", "equalized_lr",
                "projection_discriminator", "maxout"]
QUOTING_PAGES = [DOCS / "layers" / f"{name}.md" for name in LAYER_PAGES] + [
    DOCS / "gan_math.md", DOCS / "backprop_through_the_backprop.md"]
QUOTED_SOURCES = ["minigan/functional", "minigan/nn", "minigan/gan", "minigan/engine"]

FENCE = re.compile(r"^[ \t]*(```|~~~)(\w*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.S | re.M)
INLINE_CODE = re.compile(r"(`+)(.+?)\1", re.S)
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^()\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_SRC = re.compile(r"<(?:img|a)\b[^>]*?\b(?:src|href)=\"([^\"]+)\"", re.I)
QUALIFIED = re.compile(r"\bminigan(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def rel(path):
    return path.relative_to(ROOT).as_posix()


def code_blocks(text, language=None):
    """The contents of fenced code blocks (optionally only those of one language)."""
    return [m.group(3) for m in FENCE.finditer(text) if language is None or m.group(2) == language]


def prose(text):
    """The text without fenced code blocks and inline code spans."""
    return INLINE_CODE.sub(" ", FENCE.sub("\n", text))


def inline_code(text):
    return [m.group(2) for m in INLINE_CODE.finditer(FENCE.sub("\n", text))]


def github_slug(heading):
    """The anchor GitHub gives a heading: rendered text, lower case, punctuation dropped,
    spaces to hyphens (letters, digits, '_' and '-' survive)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)     # links -> their text
    text = text.replace("`", "").replace("*", "").lower().strip()
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char in "-_ " or category[0] in "LN" or category == "Mn":
            kept.append(char)
    return "".join(kept).replace(" ", "-")


def anchors(page):
    """Every anchor of a Markdown page (duplicates numbered as GitHub does)."""
    seen, result = {}, set()
    for line in FENCE.sub("\n", page.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        slug = github_slug(match.group(1))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def local_links(page):
    text = prose(page.read_text(encoding="utf-8"))
    targets = [m.group(1) for m in LINK.finditer(text)] + HTML_SRC.findall(text)
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I)]


# ---------------------------------------------------------------------------- links


def test_the_documentation_exists():
    names = {rel(p) for p in PAGES}
    for required in ["docs/README.md", "docs/api.md", "docs/gan_math.md",
                     "docs/training_guide.md", "README.md"]:
        assert required in names
    assert all((DOCS / "layers" / f"{name}.md").is_file() for name in LAYER_PAGES)


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_every_relative_link_and_image_exists(page):
    missing = []
    for target in local_links(page):
        path_part, _, anchor = target.partition("#")
        resolved = page if not path_part else (page.parent / path_part).resolve()
        shown = rel(resolved) if resolved.is_relative_to(ROOT) else resolved
        if not resolved.exists():
            missing.append(f"{target} -> {shown}")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            missing.append(f"{target}: no heading with the anchor #{anchor} in {shown}")
    assert not missing, (f"{rel(page)} links to missing files or anchors:\n  "
                         + "\n  ".join(missing))


def test_the_link_checker_sees_links_and_images(tmp_path):
    """The regular expressions find what they should and skip code."""
    page = tmp_path / "p.md"
    page.write_text("![fig](figures/a.png) [b](b.md#sec) [web](https://x.org/y)\n"
                    "`[not](a link)`\n```\n[nor](this.md)\n```\n<img src=\"c.png\">\n"
                    "1. item\n   ```python\n   [x](y.md)\n   ```\n",
                    encoding="utf-8")
    assert local_links(page) == ["figures/a.png", "b.md#sec", "c.png"]
    assert code_blocks(page.read_text(encoding="utf-8"), "python") == ["   [x](y.md)\n"]
    assert github_slug("The tap-by-tap reference (`conv2d_reference`)") \
        == "the-tap-by-tap-reference-conv2d_reference"
    assert github_slug("col2im: every row added back onto its window") \
        == "col2im-every-row-added-back-onto-its-window"
    assert github_slug("The optimum −log 4 and the Jensen–Shannon divergence") \
        == "the-optimum-log-4-and-the-jensenshannon-divergence"


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_no_control_characters(page):
    """A backslash escape swallowed on the way into a page ("\\text" written through a
    non-raw string becomes a tab and "ext") leaves a control character behind."""
    text = page.read_text(encoding="utf-8")
    bad = [(n + 1, repr(c)) for n, line in enumerate(text.split("\n"))
           for c in line if c == "\t" or (ord(c) < 32 and c not in "\r\n")]
    assert not bad, f"{rel(page)}: control characters at (line, char) {bad[:10]}"


# ---------------------------------------------------------------------------- names


def resolve(qualified):
    """Import the longest module prefix of ``qualified`` and getattr the rest."""
    parts = qualified.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ImportError(qualified)


def qualified_names(page):
    names = set()
    for span in inline_code(page.read_text(encoding="utf-8")):
        names.update(QUALIFIED.findall(span))
    return sorted(names)


def test_api_reference_names_minigan_objects():
    assert len(qualified_names(DOCS / "api.md")) > 100


@pytest.mark.parametrize("page", [p for p in PAGES if p.parent.is_relative_to(DOCS)], ids=rel)
def test_every_qualified_minigan_name_exists(page):
    missing = []
    for name in qualified_names(page):
        try:
            resolve(name)
        except (ImportError, AttributeError) as error:
            missing.append(f"{name} ({type(error).__name__}: {error})")
    assert not missing, f"{rel(page)} names what minigan does not have:\n  " + "\n  ".join(missing)


# what a layer page may quote from the functional core: the forward/backward pairs and
# their helpers, the private rules and helpers (``_relu_grad``, ``_values_per_channel``),
# the tap-by-tap reference and the unfold functions of engine/unfold.py
FUNCTIONAL_NAME = re.compile(
    r"^[a-z_][a-z0-9_]*_(forward|backward|grad|input_grad|output_size|running_stats|reference"
    r"|kernels|axes)$"
    r"|^_[a-z][a-z0-9_]*$"
    r"|^(im2col|col2im|zero_pad|windows|add_windows|padded_size|as_pair)$")


def functional_names(page):
    """Function names a layer page quotes from the functional core: in backticks (alone or
    called), and defined or called in its code blocks."""
    text = page.read_text(encoding="utf-8")
    candidates = set()
    for span in inline_code(text):
        match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)(\(|$)", span.strip())
        if match:
            candidates.add(match.group(1))
    for block in code_blocks(text, "python"):
        candidates.update(re.findall(r"\b([a-z_][a-z0-9_]*)\(", block))
    return sorted(name for name in candidates if FUNCTIONAL_NAME.match(name))


def functional_namespace():
    """Names defined in minigan/functional (and the im2col/col2im primitives it is written
    in, minigan/engine/unfold.py), and in minigan/nn (whose containers' private
    helpers, such as the Fade's ``_on_path``, the container pages quote)."""
    names = set(dir(minigan.functional)) | set(dir(minigan.engine.unfold))
    for package in ("functional", "nn"):
        for path in (ROOT / "minigan" / package).glob("*.py"):
            module = importlib.import_module(f"minigan.{package}.{path.stem}")
            names.update(dir(module))
            names.update(name for value in vars(module).values() if isinstance(value, type)
                         for name in vars(value))
    return names


@pytest.mark.parametrize("name", [n for n in LAYER_PAGES if n != "shape"])
def test_layer_pages_quote_functions_that_exist(name):
    page = DOCS / "layers" / f"{name}.md"
    quoted = functional_names(page)
    assert quoted, f"{rel(page)} names no function of minigan/functional"
    missing = sorted(set(quoted) - functional_namespace())
    assert not missing, f"{rel(page)} quotes functions minigan/functional does not have: {missing}"


def source_lines():
    lines = set()
    for directory in QUOTED_SOURCES:
        for path in (ROOT / directory).glob("*.py"):
            lines.update(line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return lines


@pytest.mark.parametrize("page", QUOTING_PAGES, ids=rel)
def test_quoted_code_is_the_code(page):
    """Every line of the ```python blocks of the quoting pages (QUOTING_PAGES) is a line of
    minigan/functional, minigan/nn or minigan/gan ("..." marks an elision)."""
    source = source_lines()
    drifted = []
    for block in code_blocks(page.read_text(encoding="utf-8"), "python"):
        for line in block.splitlines():
            stripped = line.strip()
            if stripped and stripped != "..." and stripped not in source:
                drifted.append(stripped)
    assert not drifted, (f"{rel(page)} quotes lines that are not in the library's source "
                         "(update the page to the code):\n  " + "\n  ".join(drifted))


# ---------------------------------------------------------------------------- runnable code

API_BLOCKS = code_blocks((DOCS / "api.md").read_text(encoding="utf-8"), "python")


def test_api_reference_has_runnable_examples():
    assert len(API_BLOCKS) >= 10


@pytest.mark.parametrize("index", range(len(API_BLOCKS)))
def test_api_code_blocks_run(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    code = compile(API_BLOCKS[index], f"docs/api.md python block {index + 1}", "exec")
    exec(code, {"__name__": "__docs__"})


# ---------------------------------------------------------------------------- standing alone

PLANNING = re.compile(
    r"DESIGN\.md|FACTS\.md|\bthe design's\b|\bthe design\b|\bthe issue\b|\bissue's\b|"
    r"\bother engineers\b|\bthis session\b|\bthe session\b|\(issue\b|\bissue #?\d",
    re.IGNORECASE)
STANDALONE_FILES = sorted(
    [ROOT / "README.md", *ROOT.glob("docs/**/*.md"), *ROOT.glob("examples/*.py"),
     *ROOT.glob("examples/*.md"), *ROOT.glob("minigan/**/*.py"), *ROOT.glob("benchmarks/*.py"),
     *ROOT.glob("scripts/*.py"), *ROOT.glob("tests/**/*.py")])


def test_the_repository_stands_on_its_own():
    """No page, docstring or comment points a reader at planning documents or work notes
    that are not in the repository: things are named by what they are, papers are cited."""
    this_file = Path(__file__).resolve()
    found = []
    for path in STANDALONE_FILES:
        if path.resolve() == this_file:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if PLANNING.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "references a reader of this repository cannot follow:\n  " + \
        "\n  ".join(found)
