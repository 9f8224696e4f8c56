"""Helpers for tests that a secret never reaches a message, a repr or a chained exception."""

from __future__ import annotations

import traceback

from flowkit.sources.redact import secret_variants


def exception_texts(exc: BaseException) -> str:
    """str, repr and the traceback's message lines of ``exc`` and of every exception chained to it.

    The traceback's source lines are left out: they show the test's own code.
    """
    texts: list[str] = []
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        texts += [str(e), repr(e), repr(getattr(e, "args", ())), *traceback.format_exception_only(e)]
        todo += [e.__cause__, e.__context__]
    return "\n".join(texts)


def assert_no_secret(text: str, *secrets: str) -> None:
    """No secret, in any of its quoted forms, is in ``text``."""
    for secret in secrets:
        for variant in secret_variants(secret):
            assert variant not in text, f"secret leaked: {variant[:6]}…"


def reachable_texts(exc: BaseException, limit: int = 200_000) -> str:
    """Every string reachable from the exceptions chained to ``exc`` (``__context__``, ``__cause__``).

    For ``exc`` itself: its text and the values of its attributes. For each exception chained to it,
    also what its attributes hold (``vars()`` of a response, of its request, their headers…) and the
    local variables of its traceback's frames, followed through objects, dicts and sequences.
    ``exc``'s own traceback is not followed: its frames are the caller's (the source object, which
    holds its credential by design).
    """
    import types

    texts: list[str] = []
    seen: set[int] = set()
    todo: list[object] = [vars(exc), *exception_texts(exc).splitlines()]
    chained = [e for e in (exc.__context__, exc.__cause__) if e is not None]
    while chained:
        e = chained.pop()
        todo.append(e)
        chained += [c for c in (e.__context__, e.__cause__) if c is not None and c not in todo]
    while todo and len(seen) < limit:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            texts.append(obj)
        elif isinstance(obj, bytes):
            texts.append(obj.decode("latin-1"))
        elif isinstance(obj, dict):
            todo += list(obj.keys()) + list(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            todo += list(obj)
        elif isinstance(obj, types.TracebackType):
            todo += [obj.tb_frame.f_locals, obj.tb_next]
        elif isinstance(obj, (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType)):
            continue
        else:
            if isinstance(obj, BaseException):
                todo += [str(obj), repr(obj), obj.args, obj.__traceback__]
            try:
                todo.append(vars(obj))
            except TypeError:
                slots = [s for k in type(obj).__mro__ for s in getattr(k, "__slots__", ())]
                todo += [getattr(obj, s, None) for s in slots if isinstance(s, str)]
            if hasattr(obj, "items") and callable(obj.items):  # headers: case-insensitive mappings
                try:
                    todo += [kv for pair in obj.items() for kv in pair]
                except Exception:  # noqa: BLE001 - a mapping that cannot be walked is passed over
                    pass
    return "\n".join(texts)
