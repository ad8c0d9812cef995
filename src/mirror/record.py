"""@record: frozen value classes that cost little to define, as `@dataclass(frozen=True, slots=True)` makes them.

Example::

    @record
    class Member:
        name: str
        size: int
        tags: tuple[str, ...] = ()
        seen: list[str] = field(default_factory=list, repr=False)

    m = Member("a.txt", 3)
    m == Member("a.txt", 3), hash(m)       # equal by value, hashable (over the fields that compare)
    m                                      # Member(name='a.txt', size=3, tags=())
    replace(m, size=4)                     # a copy with one field changed
    m.size = 4                             # FrozenInstanceError

What a record has, as a frozen slotted dataclass has it: an `__init__` with the fields in order (defaults,
`field(default=..., default_factory=..., repr=..., compare=...)`, `__post_init__` called last; an `__init__`,
`__eq__`, `__hash__` or `__repr__` the class writes itself is kept), value equality with the same class only,
a hash over the compared fields, a repr, `__match_args__`, `__slots__`, no assignment or deletion after
`__init__` (FrozenInstanceError), and copy and pickle. mypy sees a record as a frozen dataclass (PEP 681).

Why not dataclasses: every mirror command defines its records at start-up. On Python 3.11 the dataclasses
module imports inspect (about 8 ms) and each frozen slotted dataclass compiles six methods with `exec` (about
0.5 ms); the 33 records a `mirror verify` defines cost about 20 ms of its 75. A record compiles its `__init__`,
`__eq__` and `__hash__` with one `exec` (about 0.1 ms); repr and the frozen setters are shared functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T")
_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "MISSING"})()


class FrozenInstanceError(AttributeError):
    """An attempt to assign to, or delete, a field of a record."""


class _Field:
    """A field's default (or factory) and whether it shows in repr and counts in eq and hash."""

    __slots__ = ("compare", "default", "default_factory", "repr")

    def __init__(self, default: Any, default_factory: Any, repr: bool, compare: bool) -> None:
        self.default, self.default_factory, self.repr, self.compare = default, default_factory, repr, compare


@overload
def field(*, default: T, repr: bool = True, compare: bool = True) -> T: ...
@overload
def field(*, default_factory: Callable[[], T], repr: bool = True, compare: bool = True) -> T: ...
@overload
def field(*, repr: bool = True, compare: bool = True) -> Any: ...
def field(*, default: Any = _MISSING, default_factory: Any = _MISSING, repr: bool = True,
          compare: bool = True) -> Any:
    """A field with a default, a default factory (called for each new record), or left out of repr or eq."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return _Field(default, default_factory, repr, compare)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[T]) -> type[T]:
    """Make `cls` a frozen slotted value class of its annotated fields (see the module's docstring)."""
    namespace = dict(cls.__dict__)
    if any(hasattr(base, "__record_fields__") for base in cls.__mro__[1:]):
        raise TypeError(f"record {cls.__name__} cannot extend a record: its fields would be left out")
    for name in ("__setattr__", "__delattr__", "__slots__"):
        if name in namespace:
            raise TypeError(f"cannot overwrite attribute {name} in record {cls.__name__}")
    fields: dict[str, _Field] = {}
    for name, annotation in namespace.get("__annotations__", {}).items():
        if _is_class_var(annotation):
            continue
        value = namespace.pop(name, _MISSING)
        spec = value if isinstance(value, _Field) else _Field(value, _MISSING, True, True)
        if spec.default is not _MISSING and type(spec.default).__hash__ is None:
            raise ValueError(f"mutable default {type(spec.default)} for field {name} is not allowed: "
                             "use default_factory")
        fields[name] = spec
    names = tuple(fields)
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    namespace["__slots__"] = names
    namespace["__match_args__"] = names
    namespace["__record_fields__"] = names
    namespace["__record_repr__"] = tuple(n for n, f in fields.items() if f.repr)
    made = _methods(cls.__qualname__, fields, hasattr(cls, "__post_init__"))
    for name in ("__init__", "__eq__"):
        namespace.setdefault(name, made[name])
    namespace.setdefault("__repr__", _repr)
    own_hash = cls.__dict__.get("__hash__", _MISSING)
    if own_hash is _MISSING or (own_hash is None and "__eq__" in cls.__dict__):  # defining __eq__ sets it to None
        namespace["__hash__"] = made["__hash__"]
    namespace.update(__setattr__=_frozen_set, __delattr__=_frozen_delete, __getstate__=_get_state,
                     __setstate__=_set_state)
    new: type[T] = type(cls.__name__, cls.__bases__, namespace)
    new.__qualname__ = cls.__qualname__  # type() takes the bare name
    return new


def replace(obj: T, /, **changes: Any) -> T:
    """A new record like `obj` with `changes`; refuses a name that is not a field (TypeError)."""
    for name in obj.__record_fields__:  # type: ignore[attr-defined]
        if name not in changes:
            changes[name] = getattr(obj, name)
    return obj.__class__(**changes)


def fields(obj: object) -> tuple[str, ...]:
    """The names of a record's fields, in order."""
    names: tuple[str, ...] = obj.__record_fields__  # type: ignore[attr-defined]
    return names


def as_dict(obj: object) -> dict[str, Any]:
    """A record's fields by name, the values as they are (not copied, nested records not converted)."""
    return {name: getattr(obj, name) for name in fields(obj)}


def _is_class_var(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _methods(qualname: str, fields: dict[str, _Field], post_init: bool) -> dict[str, Callable[..., Any]]:
    """__init__ (positional-or-keyword parameters in field order, like a dataclass's), __eq__ and __hash__ (over
    the compared fields), compiled together: one `exec` a class."""
    params, body, scope = [], [], {"_record_set_": object.__setattr__, "_record_missing_": _MISSING}
    seen_default = False
    for index, (name, spec) in enumerate(fields.items()):
        if spec.default_factory is not _MISSING:
            scope[f"_factory{index}"] = spec.default_factory
            params.append(f"{name}=_record_missing_")
            body.append(f"  if {name} is _record_missing_: {name} = _factory{index}()")
            seen_default = True
        elif spec.default is not _MISSING:
            scope[f"_default{index}"] = spec.default
            params.append(f"{name}=_default{index}")
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {name!r} follows default argument")
        else:
            params.append(name)
        body.append(f"  _record_set_(self, {name!r}, {name})")
    if post_init:
        body.append("  self.__post_init__()")
    compared = [name for name, spec in fields.items() if spec.compare]
    mine, theirs = (", ".join(f"{who}.{name}" for name in compared) + ("," if compared else "") for who in
                    ("self", "other"))
    source = "\n".join([
        f"def __init__(self, {', '.join(params)}):", *(body or ["  pass"]),
        "def __eq__(self, other):",
        "  if other.__class__ is self.__class__:",
        f"    return ({mine}) == ({theirs})",
        "  return NotImplemented",
        "def __hash__(self):",
        f"  return hash(({mine}))", ""])
    exec(source, scope)  # noqa: S102 - built from the class's own field names, as dataclasses does
    for name in ("__init__", "__eq__", "__hash__"):
        scope[name].__qualname__ = f"{qualname}.{name}"
    return {name: scope[name] for name in ("__init__", "__eq__", "__hash__")}


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_repr__)
    return f"{self.__class__.__qualname__}({shown})"


def _frozen_set(self: object, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delete(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _get_state(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in self.__record_fields__)


def _set_state(self: Any, state: tuple[Any, ...]) -> None:
    for name, value in zip(self.__record_fields__, state, strict=True):
        object.__setattr__(self, name, value)
