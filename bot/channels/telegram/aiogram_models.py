"""aiogram imported with its models built when first used, not all at import.

aiogram 3 declares its 600 types with pydantic's ``defer_build``, then, at the end of
``aiogram.types``, calls ``model_rebuild`` on every one of them with a namespace of all their
names: 3.5 of the 4 seconds its import takes on a two-core machine, before a bot can answer
anything. ``import_aiogram`` imports aiogram with those calls turned into keeping that namespace
on each class (pydantic's ``__pydantic_parent_namespace__``, the namespace pydantic itself uses
when it completes a deferred model). Pydantic then builds a model the first time it is used:
``Update`` (with what it holds) when the first update arrives, a method's model and its answer's
at the method's first call (aiogram declares its methods without ``defer_build``: pydantic's
default is set to defer while aiogram is imported). The models a bot never uses (most of the
150 methods) are never built. A test builds every one of them with ``complete_models_now`` and
checks that none lacks a name.

Its 634 classes still collect their fields at import: 4,100 string annotations, 640 of them
distinct ("Optional[str]" hundreds of times), each compiled by ``typing.ForwardRef``; while
aiogram is imported, a string is compiled once (:func:`_each_annotation_compiled_once`).

Everything aiogram does stays aiogram's: the same classes, the same validation, only built later.
If aiogram was imported before (by another module), it was built the usual way and nothing here
changes it."""

from __future__ import annotations

import builtins
import contextlib
import functools
import sys
import threading
import typing
from collections.abc import Iterator
from types import CodeType
from typing import Any

_lock = threading.Lock()
_deferred = False


def import_aiogram() -> None:
    """Imports aiogram (``aiogram``, its types and methods), leaving its models to be built when
    first used. Safe to call more than once and from any module that is about to import aiogram."""
    global _deferred
    with _lock:
        if "aiogram" in sys.modules:
            return
        from pydantic import BaseModel

        try:  # pydantic's own helper for the namespaces it keeps, and its defaults (pydantic 2.x)
            from pydantic._internal._config import config_defaults
            from pydantic._internal._model_construction import unpack_lenient_weakvaluedict
        except ImportError:  # another pydantic: aiogram imported as it is, models built at once
            import aiogram.methods
            import aiogram.types

            return

        rebuild = BaseModel.__dict__["model_rebuild"]
        namespace: dict[str, Any] = {}

        def keep_namespace(
            cls: type[BaseModel],
            *,
            force: bool = False,
            raise_errors: bool = True,
            _parent_namespace_depth: int = 2,
            _types_namespace: Any = None,
        ) -> bool | None:
            if _types_namespace is not None and cls.__module__.startswith("aiogram.types."):
                namespace.update(_types_namespace)
                cls.__pydantic_parent_namespace__ = namespace
                return None
            if not force and cls.__module__.startswith("aiogram."):
                # pydantic trying to build a generic model as it is parametrized (each method
                # derives from ``TelegramMethod[…]``): left, as the rest, to its first use.
                return None
            return rebuild.__func__(  # type: ignore[no-any-return]
                cls,
                force=force,
                raise_errors=raise_errors,
                _parent_namespace_depth=_parent_namespace_depth + 1,
                _types_namespace=_types_namespace,
            )

        # aiogram defers its types but not its 230 other models (the methods, whose schemas
        # hold the types they take: 110 ms of a start here): for the while of its import, a
        # model defers its build unless it says otherwise.
        deferred_before = config_defaults["defer_build"]
        BaseModel.model_rebuild = classmethod(keep_namespace)  # type: ignore[method-assign,assignment]
        try:
            config_defaults["defer_build"] = True
            with _each_annotation_compiled_once():
                import aiogram.methods
                import aiogram.types
        finally:
            config_defaults["defer_build"] = deferred_before
            BaseModel.model_rebuild = rebuild  # type: ignore[method-assign]
        # Every other model of aiogram gets the same namespace: the methods (a reply's markup, a
        # sent message) and the generic ``Response`` whose ``Response[list[Update]]`` (made for
        # each method's answer) inherits it.
        # (A class defined at a module's top level has none of its own: one shared dict.)
        # The types that keep it already are left alone: unpacking makes a new dict, and a copy
        # for each of 400 types took 20-30 ms and 5 MB.
        for model in _aiogram_models():
            kept = model.__dict__.get("__pydantic_parent_namespace__")
            if kept is namespace:
                continue
            own = unpack_lenient_weakvaluedict(kept)
            model.__pydantic_parent_namespace__ = {**own, **namespace} if own else namespace
        # A TypeAdapter of aiogram's types keeps no namespace to build later: built now (the
        # members of a chat, six small types).
        import aiogram.utils.chat_member  # noqa: F401  (its adapter, rebuilt below)

        for adapter in _aiogram_type_adapters():
            adapter.rebuild(raise_errors=False, _types_namespace=namespace)
        _deferred = True


@contextlib.contextmanager
def _each_annotation_compiled_once() -> Iterator[None]:
    """Within it, ``typing.ForwardRef`` compiles each distinct annotation string once and shares
    the code object (immutable): aiogram's import compiled 4,100 strings, 640 distinct, 45-75 ms
    of a start here (callgrind: 3 % of the import's instructions). ``typing`` looks ``compile``
    up in its own module before the builtins, so the name is set there for the while and
    removed after; any other use of ``compile`` meanwhile goes to the builtin unchanged."""
    if "compile" in vars(typing):  # someone else's: left alone
        yield
        return
    builtin = builtins.compile

    @functools.cache
    def compiled(source: str, filename: str, mode: str) -> CodeType:
        return builtin(source, filename, mode)

    def compile_once(source: Any, filename: Any, mode: str, *rest: Any, **options: Any) -> Any:
        if rest or options or type(source) is not str or type(filename) is not str:
            return builtin(source, filename, mode, *rest, **options)
        return compiled(source, filename, mode)

    typing.compile = compile_once  # type: ignore[attr-defined]
    try:
        yield
    finally:
        del typing.compile  # type: ignore[attr-defined]


def models_deferred() -> bool:
    """Whether aiogram was imported here, its models left to be built when first used."""
    return _deferred


def _aiogram_values() -> Iterator[Any]:
    """Every value at the top level of the aiogram modules imported."""
    for name, module in list(sys.modules.items()):
        if name == "aiogram" or name.startswith("aiogram."):
            yield from list(vars(module).values())


def _aiogram_models() -> Iterator[Any]:
    """Every pydantic model class of the aiogram modules imported, each once."""
    from pydantic import BaseModel

    seen: set[type] = set()
    for value in _aiogram_values():
        if (
            isinstance(value, type)
            and issubclass(value, BaseModel)
            and value.__module__.startswith("aiogram.")
            and value not in seen
        ):
            seen.add(value)
            yield value


def _aiogram_type_adapters() -> Iterator[Any]:
    """The TypeAdapters the aiogram modules imported define, not built yet."""
    from pydantic import TypeAdapter

    for value in _aiogram_values():
        if isinstance(value, TypeAdapter) and not value.pydantic_complete:
            yield value


def _models(module: Any) -> Iterator[Any]:
    from pydantic import BaseModel

    for name in getattr(module, "__all__", ()):
        value = getattr(module, name, None)
        if isinstance(value, type) and issubclass(value, BaseModel):
            yield value


def waiting_models() -> list[str]:
    """The names of aiogram's models not built yet."""
    import aiogram.methods
    import aiogram.types

    return [
        model.__name__
        for module in (aiogram.types, aiogram.methods)
        for model in _models(module)
        if not model.__pydantic_complete__
    ]


def complete_models_now() -> list[str]:
    """Builds every aiogram model not built yet; returns the names of those that could not be."""
    import aiogram.methods
    import aiogram.types

    failed: list[str] = []
    # The methods first: built before the types they hold, they need the kept namespace most.
    for module in (aiogram.methods, aiogram.types):
        for model in _models(module):
            if not model.__pydantic_complete__ and model.model_rebuild(raise_errors=False) is False:
                failed.append(model.__name__)
    return failed
