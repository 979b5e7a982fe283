"""A stdout for the prompt driver's tests (tests/test_drivers.py, tests/test_prompt_operator.py)
that calls back, with the text, each time a question (or a reminder) waits for an answer."""

from __future__ import annotations

import io


class Screen(io.StringIO):
    def __init__(self, on_question=None) -> None:
        super().__init__()
        self.on_question = on_question

    def write(self, text: str) -> int:
        n = super().write(text)
        if text.endswith("> ") and self.on_question is not None:
            self.on_question(text)
        return n
