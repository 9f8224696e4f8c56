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
