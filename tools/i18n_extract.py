"""Babel extraction method for mirror: every user-facing string of a module, as a brace template.

Example::

    # tools/babel.cfg
    [i18n_extract.extract_mirror: src/mirror/**.py]

    $ PYTHONPATH=tools pybabel extract -F tools/babel.cfg -o mirror.pot .

What counts as user-facing (see docs/translations.md):
- the message of an error: the first argument of a call to an error class (`...Error(...)` or a
  `MirrorError` subclass), the `reason` of a transfer or photo error, and any `message=` or `reason=`;
- `hint=`, `help=`, `fix=` and `detail=` arguments of any call;
- the lines the CLI prints and the library's log callbacks: the arguments of `say`, `warn`, `echo_err`,
  `fail`, `log` and `self.log`;
- the words of the records the CLI prints (`Note`, `Refusal`, `Finding`, `Arrival`);
- module constants whose name ends in `_HINT`, `_FIX`, `_NOTE` or `_FIXES` (strings, or dicts of strings);
- the docstrings of click commands and groups (as click shows them).

An f-string becomes a brace template: the placeholder is named after its expression (`{key_id}` for
`key_id`, `{title}` for `result.meta.title` or `printable(result.meta.title)`, `{accounts}` for
`counts['accounts']`), `{0}`, `{1}`... otherwise; a conversion or format spec stays (`{title!r}`, `{size:>10}`).
Literal braces are doubled. `a + (b if c else "")` yields both `a` and `a + b`. A template without any word
(only placeholders and punctuation) is not yielded: there is nothing to translate.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import re
from collections.abc import Iterator
from typing import IO, Any

SINKS = {"say": (1,), "warn": (1,), "echo_err": (1,), "fail": (1, 2), "log": (1,)}
# Records whose fields the CLI prints: which positional arguments are words.
RECORDS = {"Note": (1, 3), "Refusal": (2, 3), "Finding": (3,), "Arrival": (3,), "Media": (3,)}
# Errors whose message is not their first argument.
REASON_SECOND = {"TransferError", "MissingFile", "RangeIgnored", "ListenError", "PhotoError"}
ERROR_NAMES = {"UntrustedSigner", "IdentifiersFound", "WrongPassphrase", "MissingFile", "NoIndex",
               "RangeIgnored", "UnknownPublisher", "MirrorError"}
PROGRAMMING_ERRORS = {"AttributeError", "TypeError", "AssertionError", "NotImplementedError", "RuntimeError",
                      "ImportError", "KeyError", "IndexError"}
WORD_KEYWORDS = {"hint", "help", "fix", "detail", "message", "reason"}
CONSTANT_SUFFIXES = ("_HINT", "_FIX", "_NOTE", "_FIXES")
WRAPPERS = {"printable", "str", "repr"}  # printable(x.title) is named like x.title
# Calls whose string arguments are patterns, names or formats, never words for a reader.
NOT_WORDS_CALLS = {"compile", "match", "search", "fullmatch", "sub", "subn", "split", "findall", "finditer",
                   "startswith", "endswith", "encode", "decode", "getattr", "setattr", "hasattr", "get", "pop",
                   "option", "argument", "command", "group", "pack", "unpack", "unpack_from", "calcsize",
                   "getLogger", "environ", "strftime", "strptime", "join", "replace", "removeprefix",
                   "removesuffix", "TypeVar", "NewType", "cast", "Choice", "Path", "Struct"}
NOT_WORDS_KEYWORDS = {"metavar", "encoding", "errors", "mode", "prefix", "suffix", "sep", "end", "unit", "desc",
                      "package_name", "prog_name", "envvar", "type"}
_WORD = re.compile(r"[^\W\d_]{2,}")
_PROSE = re.compile(r"[^\W\d_]{2,}[,;:]?\s+[(\"'`]?[^\W\d_]{2,}")
# Strings that read like words but are data: file formats, signed comments, metadata keys.
NOT_MESSAGES = {
    "untrusted comment: ", "trusted comment: ", "signature from mirror secret key",
    "signature from mirror secret key {0}", "{_UNTRUSTED}minisign public key {0}\n{key_line}\n",
    "bundle:{bundle_id}\tversion:{version}\trole:author",
    "bundle:{bundle_id}\tversion:{version}\trole:endorser\tclaim:{claim}",
    "index:{publisher_key}\tversion:{version}\texpires:{expires}\trole:publisher",
    "Raw profile type exif", "Raw profile type APP1",
    "sha256(bytes.fromhex(salt) + original file) equals original_sha256_salted in bundle.json",
    "{stem}.part{number}of{count}.7z", "mirror join {0} -o {1}",
}
MAX_VARIANTS = 8


def extract_mirror(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
                   ) -> Iterator[tuple[int, None, str, list[str]]]:
    """Babel's extraction interface: yield (line, funcname, message, comments) for every user-facing string."""
    tree = ast.parse(fileobj.read())
    seen: set[tuple[int, str]] = set()
    for lineno, template in messages(tree):
        if (lineno, template) not in seen:
            seen.add((lineno, template))
            yield lineno, None, template, []


def literal_text(template: str) -> str:
    """A template without its placeholders (each becomes a space) and with its braces undoubled."""
    return re.sub(r"\{[^{}]*\}", " ", template.replace("{{", "\0").replace("}}", "\1")
                  ).replace("\0", "{").replace("\1", "}")


def has_words(template: str) -> bool:
    """Whether a template has any word outside its placeholders (else there is nothing to translate)."""
    return bool(_WORD.search(literal_text(template)))


def is_prose(template: str) -> bool:
    """Two words in a row: what a string found anywhere needs to count as words for a reader."""
    return bool(_PROSE.search(literal_text(template)))


def messages(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Every user-facing string of a parsed module, as (line, template)."""
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)}
    explicit = {id(expr) for node in ast.walk(tree) for expr in _message_exprs(node)}
    explicit |= _printed_locals(tree, explicit)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and _is_command(node):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                yield node.lineno, escape(click_help(doc))
        if not isinstance(node, ast.expr) or id(node) in docstrings or not _is_root(node, parents):
            continue
        if id(node) in explicit:
            found = [t for t in templates(node) if has_words(t)]
        elif not _not_words(node, parents):
            found = [t for t in templates(node) if is_prose(t)]
        else:
            found = []
        yield from ((node.lineno, t) for t in found if t not in NOT_MESSAGES)


def _printed_locals(tree: ast.Module, explicit: set[int]) -> set[int]:
    """Values of local variables that a message prints: `head = "CLEAN" if ... else ...; say(f"{head}: ...")`."""
    found: set[int] = set()
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        printed = {n.id for node in ast.walk(function) if id(node) in explicit
                   for n in ast.walk(node) if isinstance(n, ast.Name)}
        found |= {id(node.value) for node in ast.walk(function) if isinstance(node, ast.Assign)
                  and any(isinstance(t, ast.Name) and t.id in printed for t in node.targets)}
    return found


def click_help(doc: str) -> str:
    """A docstring as click shows it: cleaned, cut at a form feed."""
    return inspect.cleandoc(doc).split("\f")[0].rstrip()


def escape(text: str) -> str:
    """Literal text as a brace template."""
    return text.replace("{", "{{").replace("}", "}}")


def _callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_error(name: str) -> bool:
    return (name.endswith("Error") or name in ERROR_NAMES) and name not in PROGRAMMING_ERRORS


def _message_exprs(node: ast.AST) -> Iterator[ast.expr]:
    """The expressions that carry words for a reader by where they stand: see the module docstring."""
    if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(isinstance(t, ast.Name) and t.id.endswith(CONSTANT_SUFFIXES) for t in targets):
            yield from node.value.values if isinstance(node.value, ast.Dict) else [node.value]
    if not isinstance(node, ast.Call):
        return
    name = _callee(node)
    positions: tuple[int, ...] = ()
    if name in SINKS:
        positions = SINKS[name]
    elif name in RECORDS:
        positions = RECORDS[name]
    elif _is_error(name):
        positions = (2,) if name in REASON_SECOND else (1,)
    for position in positions:
        if len(node.args) >= position and not isinstance(node.args[position - 1], ast.Starred):
            yield node.args[position - 1]
    yield from (k.value for k in node.keywords if k.arg in WORD_KEYWORDS)


def _is_root(node: ast.expr, parents: dict[int, ast.AST]) -> bool:
    """A string expression that is not part of a larger one (an f-string, a concatenation, a choice)."""
    if not (isinstance(node, ast.JoinedStr | ast.BinOp | ast.IfExp | ast.Call)
            or (isinstance(node, ast.Constant) and isinstance(node.value, str))):
        return False
    parent = parents.get(id(node))
    if isinstance(parent, ast.JoinedStr | ast.FormattedValue | ast.IfExp):
        return isinstance(parent, ast.IfExp) and parent.test is node
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Add) and templates(parent):
        return False
    return not (isinstance(parent, ast.Attribute) and _is_format(parents.get(id(parent))))


def _not_words(node: ast.expr, parents: dict[int, ast.AST]) -> bool:
    """A string that stands where words for a reader never do: a key, a pattern, a comparison, a name."""
    parent = parents.get(id(node))
    if isinstance(parent, ast.Tuple | ast.List):  # ("a", "b") in a comparison or a set
        parent = parents.get(id(parent))
    if isinstance(parent, ast.Dict):
        return any(k is node for k in parent.keys)
    if isinstance(parent, ast.Subscript | ast.Compare | ast.Set):
        return True
    if isinstance(parent, ast.keyword):
        return parent.arg in NOT_WORDS_KEYWORDS
    if isinstance(parent, ast.Call):
        return _callee(parent) in NOT_WORDS_CALLS or _callee(parent) in PROGRAMMING_ERRORS
    if isinstance(parent, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == "__all__" for t in parent.targets)
    return False


def _is_format(node: ast.AST | None) -> bool:
    """`"literal {}".format(...)`."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
            and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str))


def _is_command(node: ast.FunctionDef) -> bool:
    """Decorated with `@something.command(...)` or `@something.group(...)`."""
    for decorator in node.decorator_list:
        call = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(call, ast.Attribute) and call.attr in ("command", "group"):
            return True
    return False


def templates(expr: ast.expr) -> list[str]:
    """The brace templates an expression may produce; empty when it is not a string the extractor can see."""
    if isinstance(expr, ast.Constant):
        return [escape(expr.value)] if isinstance(expr.value, str) else []
    if isinstance(expr, ast.JoinedStr):
        return [_fstring(expr)]
    if isinstance(expr, ast.IfExp):
        return templates(expr.body) + templates(expr.orelse)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and _is_format(expr):
        return [_numbered(_constant(expr.func.value))]
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        left, right = _parts(expr.left), _parts(expr.right)
        if not any(left + right):
            return []
        return [a + b for a, b in itertools.islice(itertools.product(left, right), MAX_VARIANTS)]
    return []


def _constant(expr: ast.expr) -> str:
    return expr.value if isinstance(expr, ast.Constant) and isinstance(expr.value, str) else ""


def _numbered(template: str) -> str:
    """Automatic fields ("{}", "{:02}") numbered, as the f-string placeholders are."""
    count = itertools.count()
    return re.sub(r"(?<!\{)\{(?=[:!}])", lambda m: "{" + str(next(count)), template)


def _parts(expr: ast.expr) -> list[str]:
    """Templates of one side of a concatenation: "" for an optional part, a placeholder for a value."""
    if isinstance(expr, ast.IfExp):
        return _parts(expr.body) + _parts(expr.orelse)
    if isinstance(expr, ast.Constant) and expr.value == "":
        return [""]
    found = templates(expr)
    if found:
        return found
    name = _name_of(expr)
    return ["{" + (name or "value") + "}"]


def _fstring(node: ast.JoinedStr) -> str:
    """An f-string as a brace template with named placeholders."""
    out: list[str] = []
    names: dict[str, str] = {}  # placeholder name -> source of its expression
    position = 0
    for value in node.values:
        if isinstance(value, ast.Constant):
            out.append(escape(str(value.value)))
            continue
        if not isinstance(value, ast.FormattedValue):
            continue
        spec = _spec(value.format_spec)
        if isinstance(value.value, ast.Constant) and value.conversion == -1:  # {'refused':<10}
            out.append(escape(format(value.value.value, spec)))
            continue
        source = ast.unparse(value.value)
        name = _name_of(value.value)
        if name is None or names.get(name, source) != source:
            name = str(position)
            position += 1
        names[name] = source
        conversion = "" if value.conversion == -1 else f"!{chr(value.conversion)}"
        out.append("{" + name + conversion + (f":{spec}" if spec else "") + "}")
    return "".join(out)


def _spec(spec: ast.expr | None) -> str:
    if isinstance(spec, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in spec.values):
        return "".join(str(v.value) for v in spec.values if isinstance(v, ast.Constant))
    return ""


def _name_of(expr: ast.expr) -> str | None:
    """A placeholder name for an expression, or None to number it."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant) and isinstance(expr.slice.value, str):
        return expr.slice.value if expr.slice.value.isidentifier() else None
    if (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id in WRAPPERS
            and len(expr.args) == 1 and not expr.keywords):
        return _name_of(expr.args[0])
    return None
