"""@record behaves as @dataclass(frozen=True, slots=True) for what mirror uses: each check runs on a record and on
the same class made a dataclass, and both must answer alike."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from mirror.record import FrozenInstanceError, as_dict, field, fields, record, replace


def _shape() -> type:
    class Photo:
        """A photo."""

        name: str
        size: int
        tags: tuple[str, ...] = ()
        seen: list[str] = field(default_factory=list, repr=False, compare=False)
        note: str = field(default="", compare=False)

        @property
        def big(self) -> bool:
            return self.size > 10

    return Photo


def _stdlib_shape() -> type:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Photo:
        """A photo."""

        name: str
        size: int
        tags: tuple[str, ...] = ()
        seen: list[str] = dataclasses.field(default_factory=list, repr=False, compare=False)
        note: str = dataclasses.field(default="", compare=False)

        @property
        def big(self) -> bool:
            return self.size > 10

    return Photo


Photo: Any = record(_shape())
StdPhoto: Any = _stdlib_shape()


@pytest.mark.parametrize("cls", [Photo, StdPhoto], ids=["record", "dataclass"])
def test_a_record_is_a_frozen_slotted_value(cls: Any) -> None:
    a = cls("a.jpg", 3)
    assert (a.name, a.size, a.tags, a.seen, a.note, a.big) == ("a.jpg", 3, (), [], "", False)
    assert cls(size=30, name="b.jpg").big
    assert a == cls("a.jpg", 3) and hash(a) == hash(cls("a.jpg", 3))
    assert a == cls("a.jpg", 3, note="not compared") and a != cls("a.jpg", 4)
    assert a.seen is not cls("a.jpg", 3).seen  # a new list for each record
    assert cls.__qualname__.endswith("_shape.<locals>.Photo")
    assert repr(cls("a.jpg", 3, ("x",), ["s"])) == f"{cls.__qualname__}(name='a.jpg', size=3, tags=('x',), note='')"
    assert not hasattr(a, "__dict__") and cls.__match_args__ == ("name", "size", "tags", "seen", "note")
    assert cls.__doc__ == "A photo."
    with pytest.raises(AttributeError):  # FrozenInstanceError is one
        a.size = 4
    with pytest.raises(AttributeError):
        del a.name
    with pytest.raises(TypeError):
        cls("a.jpg")
    with pytest.raises(TypeError):
        cls("a.jpg", 3, (), [], "", "one too many")
    with pytest.raises(TypeError):
        cls("a.jpg", 3, colour="red")


@pytest.mark.parametrize("cls", [Photo, StdPhoto], ids=["record", "dataclass"])
def test_records_of_another_class_are_never_equal(cls: Any) -> None:
    other: Any = record(_shape())
    assert cls("a.jpg", 3) != other("a.jpg", 3)
    assert cls("a.jpg", 3) != ("a.jpg", 3, (), [], "")
    assert cls("a.jpg", 3).__eq__(("a.jpg",)) is NotImplemented


@pytest.mark.parametrize("cls", [Photo, StdPhoto], ids=["record", "dataclass"])
def test_copies_and_pickles_are_equal_and_still_frozen(cls: Any) -> None:
    a = cls("a.jpg", 3, ("x",), ["s"], "n")
    for twin in (copy.copy(a), copy.deepcopy(a)):
        assert twin == a and twin.seen == ["s"] and twin.note == "n"
        with pytest.raises(AttributeError):
            twin.size = 1


@record
class Kept:
    """A record pickle can find by name."""

    name: str
    tags: list[str] = field(default_factory=list, compare=False)


def test_a_pickled_record_is_equal_and_still_frozen() -> None:
    back = pickle.loads(pickle.dumps(Kept("a", ["b"])))  # noqa: S301 - our own bytes
    assert back == Kept("a") and back.tags == ["b"]
    with pytest.raises(FrozenInstanceError):
        back.name = "c"


def test_replace_fields_and_as_dict() -> None:
    a = Photo("a.jpg", 3, ("x",))
    b = replace(a, size=4)
    assert b == Photo("a.jpg", 4, ("x",)) and a.size == 3
    assert fields(a) == ("name", "size", "tags", "seen", "note")
    assert as_dict(b) == {"name": "a.jpg", "size": 4, "tags": ("x",), "seen": [], "note": ""}
    with pytest.raises(TypeError):
        replace(a, colour="red")


def test_hash_is_the_same_as_a_dataclass_would_give_for_the_same_values() -> None:
    """Sets and dicts of records behave like those of dataclasses (a hash over the compared fields)."""
    @record
    class One:
        value: int

    @record
    class Empty:
        pass

    assert {One(1), One(1), One(2)} == {One(1), One(2)}
    assert One(1) == One(1) and hash(Empty()) == hash(Empty()) and Empty() == Empty()
    assert repr(One(5)).endswith(".One(value=5)") and repr(Empty()).endswith(".Empty()")


def test_an_inherited_post_init_is_called() -> None:
    class Checks:
        def __post_init__(self) -> None:
            raise ValueError("checked")

    @record
    class Checked(Checks):
        value: int

    with pytest.raises(ValueError, match="checked"):
        Checked(1)


def test_post_init_and_an_own_init_are_kept() -> None:
    @record
    class Range:
        start: int
        end: int

        def __post_init__(self) -> None:
            if self.end < self.start:
                raise ValueError("end before start")

    @record
    class AnyOf:
        policies: tuple[str, ...]

        def __init__(self, *policies: str) -> None:
            object.__setattr__(self, "policies", policies)

    assert Range(1, 2).end == 2
    with pytest.raises(ValueError, match="end before start"):
        Range(2, 1)
    assert AnyOf("a", "b").policies == ("a", "b") and AnyOf("a") == AnyOf("a") != AnyOf("b")


def test_an_own_eq_keeps_its_hash_rule() -> None:
    """As a dataclass: a class's own __hash__ is kept; __hash__ = None beside an own __eq__ gets the fields' hash."""
    @record
    class Loose:
        value: str

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Loose) and self.value.lower() == other.value.lower()

        def __hash__(self) -> int:
            return hash(self.value.lower())

    assert Loose("A") == Loose("a") and hash(Loose("A")) == hash(Loose("a"))


def test_mistakes_in_a_class_are_refused_as_dataclasses_refuses_them() -> None:
    with pytest.raises(ValueError, match="mutable default"):
        @record
        class Shared:
            items: list[int] = []  # noqa: RUF012 - the mistake under test

    with pytest.raises(TypeError, match="non-default argument"):
        @record
        class Order:
            a: int = 0
            b: int  # type: ignore[misc]

    with pytest.raises(TypeError, match="__setattr__"):
        @record
        class Mutable:
            a: int

            def __setattr__(self, name: str, value: object) -> None: ...

    with pytest.raises(TypeError, match="cannot extend a record"):
        @record
        class Sub(Kept):
            more: int = 0

    with pytest.raises(ValueError, match="both"):
        field(default=1, default_factory=int)  # type: ignore[call-overload]


def test_a_frozen_record_says_which_field() -> None:
    with pytest.raises(FrozenInstanceError, match="'size'"):
        Photo("a.jpg", 3).size = 4
    with pytest.raises(FrozenInstanceError, match="'other'"):  # a frozen slotted dataclass raises TypeError here
        Photo("a.jpg", 3).other = 4
